/**
 * Badge logic: which badge a cell gets from its provenance (the server's
 * staleness and record) and the last comparison's verdict. The honesty rules
 * matter most: a stale cell never shows ✓ or ?, a recorded error or unseeded
 * randomness is no ✓ even when a re-execution matched, and editing a cell's
 * source drops its ✓ at once.
 */
import type { Cell, ICellModel } from '@jupyterlab/cells';
import type { NotebookPanel } from '@jupyterlab/notebook';
import { Signal } from '@lumino/signaling';
import type { ICellProvenance } from '../api';
import {
  chooseBadge,
  EDIT_DEBOUNCE_MS,
  NotebookBadges,
  provenanceBadge,
  setCellBadge,
  type IBadge
} from '../badges';

function provenance(patch: Partial<ICellProvenance> = {}): ICellProvenance {
  return {
    index: 1,
    id: 'cell-a',
    recorded: true,
    stale: false,
    status: 'ok',
    seed: 7,
    nondeterministic: false,
    record: {
      consumed: [],
      unseeded: [],
      inputs: [],
      params: {},
      variables: ['x'],
      error: null,
      auto_seeded: [],
      nondeterminism_warnings: []
    },
    problem: null,
    ...patch
  };
}

function withRecord(
  patch: Partial<NonNullable<ICellProvenance['record']>>
): ICellProvenance {
  const base = provenance();
  return { ...base, record: { ...base.record!, ...patch } };
}

const REPRODUCED: IBadge = {
  kind: 'reproduced',
  title: 'Reproduced on re-execution.'
};
const UNVERIFIED: IBadge = {
  kind: 'unverified',
  title: 'Not verified: pickle only.'
};
const DRIFT: IBadge = { kind: 'drift', title: 'Re-execution drifted.' };

describe('provenanceBadge', () => {
  it('shows a recorded cell as recorded, with its seed', () => {
    const badge = provenanceBadge(provenance());
    expect(badge?.kind).toBe('recorded');
    expect(badge?.title).toContain('with seed 7');
  });

  it('has no badge for a cell that was never recorded', () => {
    expect(
      provenanceBadge(provenance({ recorded: false, record: null }))
    ).toBeNull();
  });

  it('shows a stale cell as stale, whatever else its record says', () => {
    for (const cell of [
      provenance({ stale: true }),
      provenance({ stale: true, status: 'error' }),
      provenance({ stale: true, recorded: false, record: null }),
      { ...withRecord({ unseeded: ['np.random.rand'] }), stale: true }
    ]) {
      expect(provenanceBadge(cell)?.kind).toBe('stale');
    }
  });

  it('names the error a cell raised when recorded', () => {
    const badge = provenanceBadge(
      withRecord({
        error: { ename: 'ZeroDivisionError', evalue: 'division by zero' }
      })
    );
    expect(badge?.kind).toBe('error');
    expect(badge?.title).toContain('ZeroDivisionError: division by zero');
  });

  it('falls back to "an error" when only the status says the cell raised', () => {
    const badge = provenanceBadge(provenance({ status: 'error' }));
    expect(badge?.kind).toBe('error');
    expect(badge?.title).toContain('raised an error');
  });

  it('calls unseeded randomness nondeterministic and names the generator', () => {
    const badge = provenanceBadge(withRecord({ unseeded: ['random.random'] }));
    expect(badge?.kind).toBe('nondeterministic');
    expect(badge?.title).toContain('random.random');
  });

  it('calls reported nondeterministic operations nondeterministic', () => {
    expect(provenanceBadge(provenance({ nondeterministic: true }))?.kind).toBe(
      'nondeterministic'
    );
    expect(
      provenanceBadge(withRecord({ nondeterminism_warnings: ['scatter_add_'] }))
        ?.title
    ).toContain('scatter_add_');
  });

  it('copes with records from older servers (no error, auto_seeded or warnings keys)', () => {
    const old = provenance({
      seed: null,
      record: {
        consumed: [],
        unseeded: [],
        inputs: [],
        params: {},
        variables: []
      }
    });
    const badge = provenanceBadge(old);
    expect(badge?.kind).toBe('recorded');
    expect(badge?.title).not.toContain('seed');
  });

  it('adds the server problem to the tooltip', () => {
    expect(
      provenanceBadge(provenance({ problem: 'record unreadable' }))?.title
    ).toContain('record unreadable');
  });
});

describe('chooseBadge', () => {
  it('never shows a clean verdict on a stale cell', () => {
    const stale = provenance({ stale: true });
    expect(chooseBadge(REPRODUCED, stale)?.kind).toBe('stale');
    expect(chooseBadge(UNVERIFIED, stale)?.kind).toBe('stale');
  });

  it('keeps a drift verdict on a stale cell', () => {
    expect(chooseBadge(DRIFT, provenance({ stale: true }))).toBe(DRIFT);
  });

  it('shows a reproduced traceback as an error, not ✓', () => {
    const badge = chooseBadge(REPRODUCED, provenance({ status: 'error' }));
    expect(badge?.kind).toBe('error');
    expect(badge?.title).toContain('the same error');
  });

  it('shows unseeded randomness that happened to match as nondeterministic, not ✓', () => {
    const badge = chooseBadge(
      REPRODUCED,
      withRecord({ unseeded: ['random.random'] })
    );
    expect(badge?.kind).toBe('nondeterministic');
    expect(badge?.title).toContain('happened to give the recorded outputs');
  });

  it('shows a verdict over a plain recorded badge', () => {
    expect(chooseBadge(REPRODUCED, provenance())).toBe(REPRODUCED);
    expect(chooseBadge(DRIFT, provenance())).toBe(DRIFT);
  });

  it('says when a verdict only compared saved outputs of an unrecorded cell', () => {
    const badge = chooseBadge(
      REPRODUCED,
      provenance({ recorded: false, record: null })
    );
    expect(badge?.kind).toBe('reproduced');
    expect(badge?.title).toContain('Not recorded');
  });

  it('falls back to provenance, then to no badge', () => {
    expect(chooseBadge(undefined, provenance())?.kind).toBe('recorded');
    expect(chooseBadge(undefined, provenance({ stale: true }))?.kind).toBe(
      'stale'
    );
    expect(chooseBadge(undefined, undefined)).toBeNull();
    expect(chooseBadge(DRIFT, undefined)).toBe(DRIFT);
  });
});

/** The parts of a cell widget that badges.ts touches. */
function fakeCell(id: string, type: 'code' | 'markdown' = 'code'): Cell {
  const model = {
    id,
    type,
    sharedModel: {} as { changed?: Signal<unknown, unknown> }
  };
  model.sharedModel.changed = new Signal<unknown, unknown>(model);
  return { model, node: document.createElement('div') } as unknown as Cell;
}

function badgesOf(cell: Cell): HTMLElement[] {
  return Array.from(cell.node.querySelectorAll<HTMLElement>('.jp-repro-badge'));
}

describe('setCellBadge', () => {
  it('keeps exactly one badge per cell', () => {
    const cell = fakeCell('a');
    setCellBadge(cell, REPRODUCED);
    setCellBadge(cell, DRIFT);
    setCellBadge(cell, DRIFT);
    const badges = badgesOf(cell);
    expect(badges).toHaveLength(1);
    expect(badges[0].dataset.kind).toBe('drift');
    expect(badges[0].textContent).toBe('≠');
    expect(badges[0].title).toBe(DRIFT.title);
  });

  it('removes strays from an earlier placement, and the badge on null', () => {
    const cell = fakeCell('a');
    const stray = document.createElement('span');
    stray.className = 'jp-repro-badge jp-repro-badge-recorded';
    cell.node.appendChild(stray);
    setCellBadge(cell, REPRODUCED);
    expect(badgesOf(cell)).toHaveLength(1);
    expect(badgesOf(cell)[0]).not.toBe(stray);
    setCellBadge(cell, null);
    expect(badgesOf(cell)).toHaveLength(0);
    expect(cell.node.classList.contains('jp-repro-badge-host')).toBe(false);
  });

  it('puts a hostile title in as text', () => {
    const cell = fakeCell('a');
    setCellBadge(cell, { kind: 'recorded', title: '<b onmouseover="x()">' });
    expect(cell.node.querySelector('b')).toBeNull();
    expect(badgesOf(cell)[0].getAttribute('aria-label')).toBe(
      '<b onmouseover="x()">'
    );
  });
});

describe('NotebookBadges', () => {
  function fakePanel(cells: Cell[]): NotebookPanel {
    const models = cells.map(c => c.model) as unknown as ICellModel[] & {
      changed: Signal<unknown, unknown>;
    };
    models.changed = new Signal<unknown, unknown>(models);
    const panel = {
      isDisposed: false,
      context: { model: { cells: models } },
      content: { widgets: cells },
      disposed: new Signal<unknown, unknown>({})
    };
    return panel as unknown as NotebookPanel;
  }

  function edit(cell: Cell, change: Record<string, unknown>): void {
    (
      cell.model.sharedModel.changed as unknown as Signal<unknown, unknown>
    ).emit(change);
  }

  afterEach(() => jest.useRealTimers());

  it('badges code cells from provenance by id, markdown cells never', () => {
    const markdown = fakeCell('m', 'markdown');
    const code = fakeCell('cell-a');
    const badges = new NotebookBadges(fakePanel([markdown, code]));
    badges.setProvenance([provenance({ index: 1, id: 'cell-a', stale: true })]);
    expect(badgesOf(markdown)).toHaveLength(0);
    expect(badgesOf(code)[0].dataset.kind).toBe('stale');
  });

  it('matches provenance without a cell id by notebook index', () => {
    const markdown = fakeCell('m', 'markdown');
    const code = fakeCell('no-id-in-file');
    const badges = new NotebookBadges(fakePanel([markdown, code]));
    badges.setProvenance([provenance({ index: 1, id: null })]);
    expect(badgesOf(code)[0].dataset.kind).toBe('recorded');
  });

  it('drops a ✓ as soon as the source is edited, but keeps a drift', () => {
    jest.useFakeTimers();
    const clean = fakeCell('cell-a');
    const drifted = fakeCell('cell-b');
    const badges = new NotebookBadges(fakePanel([clean, drifted]));
    badges.setProvenance([
      provenance({ index: 0, id: 'cell-a' }),
      provenance({ index: 1, id: 'cell-b' })
    ]);
    badges.setVerdict('cell-a', REPRODUCED);
    badges.setVerdict('cell-b', DRIFT);
    badges.render();
    expect(badgesOf(clean)[0].dataset.kind).toBe('reproduced');

    edit(clean, { metadataChange: {} });
    expect(badgesOf(clean)[0].dataset.kind).toBe('reproduced');

    edit(clean, { sourceChange: [{ insert: 'y = 2' }] });
    edit(drifted, { sourceChange: [{ insert: 'z = 3' }] });
    expect(badgesOf(clean)[0].dataset.kind).toBe('recorded');
    expect(badgesOf(drifted)[0].dataset.kind).toBe('drift');
  });

  it('announces a burst of source edits once, after the typing pauses', () => {
    jest.useFakeTimers();
    const cell = fakeCell('cell-a');
    const badges = new NotebookBadges(fakePanel([cell]));
    let announced = 0;
    badges.sourcesEdited.connect(() => announced++);
    for (let i = 0; i < 5; i++) {
      edit(cell, { sourceChange: [{ insert: 'x' }] });
    }
    expect(announced).toBe(0);
    jest.advanceTimersByTime(EDIT_DEBOUNCE_MS);
    expect(announced).toBe(1);
  });

  it('clears verdicts one by one or all at once', () => {
    const a = fakeCell('cell-a');
    const b = fakeCell('cell-b');
    const badges = new NotebookBadges(fakePanel([a, b]));
    badges.setVerdict('cell-a', DRIFT);
    badges.setVerdict('cell-b', DRIFT);
    badges.clearVerdicts(['cell-a']);
    expect(badgesOf(a)).toHaveLength(0);
    expect(badgesOf(b)[0].dataset.kind).toBe('drift');
    badges.clearVerdicts();
    expect(badgesOf(b)).toHaveLength(0);
  });
});
