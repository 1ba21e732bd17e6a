/**
 * The Verify summary rendered from reports shaped as the server sends them:
 * its counts come from the report's `summary`, resolved drifts and empty or
 * configuration cells are taken off, and nothing turns a drift or an
 * unverified cell into "reproduced".
 */
import type { DriftReport } from '../schema';
import type { NotebookReproState } from '../state';
import { CAUSE_LABELS, markResolved } from '../driftview';
import { driftedCells, type IVerifyState } from '../verify';
import { renderSummary } from '../verifysummary';
import { cause, comparison, report, summary } from './reports';

/**
 * The Verify summary of a finished run, rendered from a report as the
 * server sends it (a page without notebook cells: no recorded errors to
 * name). `open` are the ids of the drifted cells still highlighted.
 */
function summaryOf(drift: DriftReport, open: string[] = []): HTMLElement {
  const v: IVerifyState = {
    phase: 'done',
    progress: null,
    message: null,
    report: drift,
    stopped: null,
    highlighted: open,
    drifted: driftedCells(drift)
  };
  const state = {
    panel: { content: { widgets: [] } },
    provenance: { data: null },
    verifier: { state: v, running: false }
  } as unknown as NotebookReproState;
  return renderSummary(state, v, () => undefined);
}

function shown(node: HTMLElement): {
  headline: string;
  counts: Record<string, string>;
} {
  const counts: Record<string, string> = {};
  node.querySelectorAll('.jp-repro-count').forEach(li => {
    const key = Array.from(li.classList)
      .find(
        c => c.startsWith('jp-repro-count-') && c !== 'jp-repro-count-zero'
      )!
      .slice('jp-repro-count-'.length);
    counts[key] = li.textContent ?? '';
  });
  return {
    headline: node.querySelector('.jp-repro-headline')?.textContent ?? '',
    counts
  };
}

describe('the Verify summary', () => {
  it("shows the report's counts per status; reproduced and drifted always", () => {
    const node = summaryOf(
      report(
        [
          comparison('same', { index: 0 }),
          comparison('same', { index: 1 }),
          comparison('within_tolerance', { index: 2 })
        ],
        { summary: summary({ same: 2, within_tolerance: 1 }) }
      )
    );
    expect(shown(node)).toEqual({
      headline: 'All 3 cells reproduced',
      counts: {
        same: '2 reproduced',
        within_tolerance: '1 within tolerance',
        drift: '0 drifted'
      }
    });
    expect(node.className).toContain('jp-repro-summary-reproduced');
  });

  it('shows zeros, never "undefined", for a report without counts (an error report)', () => {
    const node = summaryOf(
      report([], { status: 'error', reason: 'nothing to verify', summary: {} })
    );
    const { headline, counts } = shown(node);
    expect(headline).toBe('Could not verify: nothing to verify');
    expect(counts).toEqual({ same: '0 reproduced', drift: '0 drifted' });
    expect(node.textContent).not.toMatch(/undefined|NaN/);
  });

  it('stops counting a drift once accepted or dismissed, and says when none is left', () => {
    const cells = [
      comparison('same', { index: 0, id: 'a' }),
      comparison('drift', {
        index: 1,
        id: 'b',
        causes: [cause('data', 0.8, 'train.csv changed')]
      }),
      comparison('error', { index: 2, id: 'c' })
    ];
    const drift = report(cells, {
      status: 'drift',
      first_drift: { index: 1, id: 'b' },
      summary: summary({ same: 1, drift: 1, error: 1 })
    });
    let node = summaryOf(drift, ['b', 'c']);
    expect(shown(node).headline).toBe('Drift in 2 of 3 cells');
    expect(shown(node).counts.drift).toBe('1 drifted');
    expect(node.querySelector('.jp-repro-first')?.textContent).toBe(
      'First drift: cell 2'
    );
    expect(node.querySelector('.jp-repro-causes')?.textContent).toContain(
      CAUSE_LABELS.data
    );

    markResolved(cells[1], 'accepted');
    node = summaryOf(drift, ['c']);
    expect(shown(node).headline).toBe('Drift in 1 of 3 cells');
    expect(shown(node).counts).toEqual({
      same: '1 reproduced',
      drift: '0 drifted',
      error: '1 errors'
    });
    expect(node.querySelector('.jp-repro-first')?.textContent).toBe(
      'First drift: cell 3'
    );

    markResolved(cells[2], 'dismissed');
    node = summaryOf(drift, []);
    expect(shown(node).headline).toBe('All drifts resolved');
    expect(node.className).toContain('jp-repro-summary-resolved');
    expect(node.querySelector('.jp-repro-resolution')?.textContent).toBe(
      '1 accepted, 1 dismissed'
    );
    expect(node.querySelector('.jp-repro-first')).toBeNull();
  });

  it('leaves empty cells out of "N cells" and names a cell skipped by tag', () => {
    const node = summaryOf(
      report(
        [
          comparison('same', { index: 0 }),
          comparison('skipped', {
            index: 1,
            differences: [{ kind: 'skipped', detail: 'empty cell' }]
          }),
          comparison('skipped', {
            index: 2,
            differences: [{ kind: 'skipped', detail: 'skipped by tag' }]
          }),
          comparison('same', { index: 3 })
        ],
        { summary: summary({ same: 2, skipped: 2 }) }
      )
    );
    expect(shown(node)).toEqual({
      headline: 'All 2 cells reproduced',
      counts: {
        same: '2 reproduced',
        drift: '0 drifted',
        skipped: '1 skipped'
      }
    });
    expect(node.querySelector('.jp-repro-notices')?.textContent).toContain(
      'Cell 3 skipped: skipped by tag.'
    );
    expect(node.className).toContain('jp-repro-summary-reproduced');
  });

  it('says an unrecorded notebook was only compared with its saved outputs', () => {
    const node = summaryOf(
      report(
        [
          comparison('same', { index: 0, id: 'a' }),
          comparison('drift', { index: 1, id: 'b' })
        ],
        {
          status: 'drift',
          recorded: false,
          first_drift: { index: 1, id: 'b' },
          summary: summary({ same: 1, drift: 1 })
        }
      ),
      ['b']
    );
    expect(shown(node)).toEqual({
      headline: 'Not recorded: outputs compared with the saved ones only',
      counts: { same: '1 same as saved', drift: '1 differ from saved' }
    });
    expect(
      node.querySelector('.jp-repro-unrecorded-detail')?.textContent
    ).toContain('1 of 2 cells differ from the saved outputs.');
  });
});
