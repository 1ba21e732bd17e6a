/**
 * What the frontend makes of the server's drift report: counts per status,
 * which cells get the drift highlight, the causes in ranked order, the
 * verdict tooltips, 1-based cell lists, and the formatting of numeric deltas
 * (percentages). Nothing here may turn a drift or an unverified cell into
 * "reproduced".
 */
import type { Cause, CellComparison, DriftReport } from '../schema';
import {
  CAUSE_LABELS,
  formatDelta,
  isDrifted,
  rankedCauses,
  renderCauses,
  statusLabel
} from '../driftview';
import { countStatuses, verdictTitle } from '../verify';
import { cellList } from '../verifynotices';

type Status = CellComparison['status'];

const STATUSES: Status[] = [
  'same',
  'benign',
  'within_tolerance',
  'unverified',
  'drift',
  'error',
  'skipped'
];

function comparison(
  status: Status,
  patch: Partial<CellComparison> = {}
): CellComparison {
  return { index: 0, id: null, status, differences: [], causes: [], ...patch };
}

function report(cells: CellComparison[]): DriftReport {
  return {
    schema_version: 1,
    kind: 'drift_report',
    notebook: 'n.ipynb',
    status: cells.some(isDrifted) ? 'drift' : 'reproduced',
    first_drift: null,
    cells
  };
}

function cause(kind: Cause['kind'], score: number, detail = ''): Cause {
  return { kind, score, detail };
}

describe('countStatuses', () => {
  it('counts every status, zero included', () => {
    const counts = countStatuses(
      report([
        comparison('same'),
        comparison('same'),
        comparison('drift'),
        comparison('unverified'),
        comparison('skipped')
      ])
    );
    expect(counts).toEqual({
      same: 2,
      benign: 0,
      within_tolerance: 0,
      unverified: 1,
      drift: 1,
      error: 0,
      skipped: 1
    });
  });

  it('counts an empty report as all zeros', () => {
    const counts = countStatuses(report([]));
    expect(Object.values(counts).every(n => n === 0)).toBe(true);
    expect(Object.keys(counts).sort()).toEqual([...STATUSES].sort());
  });

  it('does not throw on a status this frontend does not know, nor count it as same', () => {
    const odd = comparison('same');
    (odd as { status: string }).status = 'brand_new';
    const counts = countStatuses(report([odd]));
    expect(counts.same).toBe(0);
    expect((counts as Record<string, number>).brand_new).toBe(1);
  });
});

describe('isDrifted and statusLabel', () => {
  it('highlights drift and error only', () => {
    expect(STATUSES.filter(s => isDrifted(comparison(s)))).toEqual([
      'drift',
      'error'
    ]);
  });

  it('never labels an unverified cell as reproduced', () => {
    expect(statusLabel('unverified')).not.toMatch(/reproduced/);
    expect(statusLabel('unverified')).toContain('unverified');
    expect(statusLabel('same')).toBe('reproduced');
  });

  it('labels every status, and passes an unknown one through', () => {
    for (const status of STATUSES) {
      expect(statusLabel(status)).toBeTruthy();
    }
    expect(statusLabel('brand_new' as Status)).toBe('brand_new');
  });
});

describe('rankedCauses', () => {
  it('puts the highest score first and keeps the server order on ties', () => {
    const causes = [
      cause('seed', 0.2),
      cause('data', 0.9),
      cause('params', 0.5),
      cause('package_change', 0.9),
      cause('unknown', 0.5)
    ];
    expect(rankedCauses(causes).map(c => c.kind)).toEqual([
      'data',
      'package_change',
      'params',
      'unknown',
      'seed'
    ]);
  });

  it('does not reorder the report it was given', () => {
    const causes = [cause('seed', 0.1), cause('data', 0.9)];
    rankedCauses(causes);
    expect(causes.map(c => c.kind)).toEqual(['seed', 'data']);
  });

  it('renders at most `limit` causes, in words, details as text', () => {
    const list = renderCauses(
      [
        cause('seed', 0.1),
        cause('data', 0.9, '<script>alert(1)</script>'),
        cause('params', 0.5),
        cause('source_changed', 0.3)
      ],
      2
    );
    const items = Array.from(list.querySelectorAll('li'));
    expect(items).toHaveLength(2);
    expect(items[0].textContent).toContain(CAUSE_LABELS.data);
    expect(items[0].textContent).toContain('<script>');
    expect(list.querySelector('script')).toBeNull();
    expect(items[1].textContent).toContain(CAUSE_LABELS.params);
  });
});

describe('verdictTitle', () => {
  it('says why an unverified cell was not verified, never that it reproduced', () => {
    const title = verdictTitle(
      comparison('unverified', {
        differences: [
          {
            kind: 'unverified_state',
            detail: 'model only fingerprintable by pickle'
          }
        ]
      })
    );
    expect(title).toBe('Not verified: model only fingerprintable by pickle');
  });

  it('copes with an unverified cell without differences', () => {
    expect(verdictTitle(comparison('unverified'))).toBe('Not verified: ');
  });

  it('says a clean cell reproduced, with its status in words', () => {
    expect(verdictTitle(comparison('same'))).toBe(
      'Reproduced on re-execution (reproduced).'
    );
    expect(verdictTitle(comparison('within_tolerance'))).toContain(
      'within tolerance'
    );
  });

  it('names the most likely cause of a drift', () => {
    const title = verdictTitle(
      comparison('drift', {
        causes: [cause('seed', 0.2), cause('data', 0.8, 'train.csv changed')]
      })
    );
    expect(title).toContain('Re-execution drifted');
    expect(title).toContain(
      'Likely cause: input data changed — train.csv changed'
    );
  });

  it('names no cause when the report has none', () => {
    const title = verdictTitle(comparison('error'));
    expect(title).toContain('Re-execution error');
    expect(title).not.toContain('Likely cause');
  });
});

describe('cellList', () => {
  it('numbers cells from 1', () => {
    expect(cellList([comparison('error', { index: 0 })])).toBe('cell 1');
    expect(
      cellList([
        comparison('error', { index: 1 }),
        comparison('error', { index: 3 }),
        comparison('error', { index: 6 })
      ])
    ).toBe('cells 2, 4 and 7');
    expect(
      cellList([
        comparison('error', { index: 2 }),
        comparison('error', { index: 4 })
      ])
    ).toBe('cells 3 and 5');
  });
});

describe('formatDelta', () => {
  it('shows a relative change in percent with sensible digits', () => {
    expect(formatDelta({ old: 0.25, new: 0.35, rel: 0.4 })).toBe(
      '0.25 → 0.35 (rel 40%)'
    );
    expect(formatDelta({ old: 100, new: 105, rel: 0.05 })).toBe(
      '100 → 105 (rel 5.0%)'
    );
    expect(formatDelta({ old: 1, new: 1.001234, rel: 0.001234 })).toBe(
      '1 → 1.001234 (rel 0.12%)'
    );
    expect(formatDelta({ old: 2, new: 1, rel: -0.5 })).toBe('2 → 1 (rel 50%)');
  });

  it('shows the boundary values with the right precision', () => {
    expect(formatDelta({ old: 0, new: 0, rel: 0.1 })).toBe('0 → 0 (rel 10%)');
    expect(formatDelta({ old: 0, new: 0, rel: 0.01 })).toBe('0 → 0 (rel 1.0%)');
    expect(formatDelta({ old: 0, new: 0, rel: 0 })).toBe('0 → 0 (rel 0.0%)');
  });

  it('passes a non-numeric relative change through, and falls back to abs', () => {
    expect(formatDelta({ old: 'a', new: 'b', rel: 'inf' })).toBe(
      'a → b (rel inf)'
    );
    expect(formatDelta({ old: 1, new: 3, abs: 2 })).toBe('1 → 3 (abs 2)');
  });

  it('never prints a percentage for a non-finite relative change', () => {
    for (const rel of [NaN, Infinity, -Infinity]) {
      expect(formatDelta({ old: 0, new: 1, rel })).not.toContain('%');
    }
  });

  it('shows "?" for missing values and never throws on junk', () => {
    expect(formatDelta({})).toBe('? → ?');
    expect(formatDelta({ old: null, new: undefined })).toBe('? → ?');
    expect(() => formatDelta({ old: {}, new: [1], rel: {} })).not.toThrow();
  });
});
