/**
 * What the frontend makes of the server's drift report. The report carries
 * its facts (counts per status in `summary`, each cell's `status`, causes
 * ranked by the server, most likely first); the frontend only maps them to
 * words, badges and the summary: the verdict of each status, the causes in
 * the server's order, the verdict tooltips, the Verify summary's counts as
 * drifts are accepted or dismissed, 1-based cell lists, and the one percent
 * format. Nothing here may turn a drift or an unverified cell into
 * "reproduced".
 */
import percentCases from './percent_cases.json';
import {
  CAUSE_LABELS,
  formatDelta,
  formatPercent,
  renderCauses,
  statusLabel
} from '../driftview';
import { driftedCells, verdictOf, verdictTitle } from '../verify';
import { cellList } from '../verifynotices';
import { cause, comparison, report, STATUSES, type Status } from './reports';

describe('verdictOf and statusLabel', () => {
  it('gives drift and error the drift verdict (highlight and drift view)', () => {
    expect(STATUSES.filter(s => verdictOf(comparison(s)) === 'drift')).toEqual([
      'drift',
      'error'
    ]);
  });

  it('never makes an unverified cell reproduced, and gives skipped cells none', () => {
    expect(verdictOf(comparison('unverified'))).toBe('unverified');
    expect(verdictOf(comparison('skipped'))).toBeNull();
    for (const s of ['same', 'benign', 'within_tolerance'] as Status[]) {
      expect(verdictOf(comparison(s))).toBe('reproduced');
    }
  });

  it('calls a status this frontend does not know unverified, never reproduced', () => {
    const odd = comparison('same');
    (odd as { status: string }).status = 'brand_new';
    expect(verdictOf(odd)).toBe('unverified');
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

describe('driftedCells', () => {
  it("is the report's drift and error cells, in its order, the same objects", () => {
    const cells = STATUSES.map((s, index) => comparison(s, { index }));
    const drifted = driftedCells(report(cells));
    expect(drifted.map(c => c.status)).toEqual(['drift', 'error']);
    expect(drifted[0]).toBe(cells[4]);
  });
});

describe('renderCauses', () => {
  it("shows the causes in the server's order (it ranks them), even on ties", () => {
    const list = renderCauses([
      cause('data', 0.9),
      cause('package_change', 0.9),
      cause('params', 0.5)
    ]);
    expect(
      Array.from(list.querySelectorAll('li')).map(li => li.className)
    ).toEqual([
      'jp-repro-cause jp-repro-cause-data',
      'jp-repro-cause jp-repro-cause-package_change',
      'jp-repro-cause jp-repro-cause-params'
    ]);
  });

  it('does not re-rank: the report is the authority on the order', () => {
    const causes = [cause('seed', 0.1), cause('data', 0.9)];
    const list = renderCauses(causes);
    expect(list.querySelector('li')?.textContent).toContain(CAUSE_LABELS.seed);
    expect(causes.map(c => c.kind)).toEqual(['seed', 'data']);
  });

  it('renders at most `limit` causes, in words, details as text', () => {
    const list = renderCauses(
      [
        cause('data', 0.9, '<script>alert(1)</script>'),
        cause('params', 0.5),
        cause('source_changed', 0.3),
        cause('seed', 0.1)
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

  it("names the most likely cause of a drift: the report's first", () => {
    const title = verdictTitle(
      comparison('drift', {
        causes: [cause('data', 0.8, 'train.csv changed'), cause('seed', 0.2)]
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
  it('shows a relative change as figures.py writes it (three digits, signed)', () => {
    expect(formatDelta({ old: 0.25, new: 0.35, rel: 0.4 })).toBe(
      '0.25 → 0.35 (rel 40%)'
    );
    expect(formatDelta({ old: 100, new: 105, rel: 0.05 })).toBe(
      '100 → 105 (rel 5%)'
    );
    expect(formatDelta({ old: 1, new: 1.001234, rel: 0.001234 })).toBe(
      '1 → 1.001234 (rel 0.123%)'
    );
    expect(formatDelta({ old: 2, new: 1, rel: -0.5 })).toBe('2 → 1 (rel -50%)');
  });

  it('shows the boundary values with the right precision', () => {
    expect(formatDelta({ old: 0, new: 0, rel: 0.1 })).toBe('0 → 0 (rel 10%)');
    expect(formatDelta({ old: 0, new: 0, rel: 0.01 })).toBe('0 → 0 (rel 1%)');
    expect(formatDelta({ old: 0, new: 0, rel: 0 })).toBe('0 → 0 (rel 0%)');
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

describe('formatPercent', () => {
  it('writes every shared case as repro_jupyter/figures.py does', () => {
    for (const [fraction, expected] of percentCases.cases) {
      expect(formatPercent(fraction as number)).toBe(expected);
    }
  });

  it('shows what is not a finite number as it is', () => {
    expect(formatPercent(Infinity)).toBe('Infinity');
    expect(formatPercent(NaN)).toBe('NaN');
  });
});
