/**
 * The Verify section of the panel: the "Re-execute and compare" button,
 * the progress ("cell k of n", Cancel) while it runs, then the summary of the
 * server's drift report (counts, first drifting cell, its ranked causes,
 * Accept all / Dismiss).
 */
import type { NotebookPanel } from '@jupyterlab/notebook';
import { button, h, note } from './dom';
import { renderCauses } from './driftview';
import type { NotebookReproState } from './state';
import { countStatuses, type IVerifyState } from './verify';

export interface IVerifyActions {
  reexecute: (panel: NotebookPanel) => void;
  goToCell: (panel: NotebookPanel, index: number, id: string | null) => void;
}

const PHASE_TEXT: Record<string, string> = {
  restarting: 'Restarting the kernel…',
  configuring: 'Preparing the replay…',
  flushing: 'Writing the new records…',
  comparing: 'Comparing with the recording…'
};

const SUMMARY_LABELS: [keyof ReturnType<typeof countStatuses>, string][] = [
  ['same', 'reproduced'],
  ['benign', 'benign'],
  ['within_tolerance', 'within tolerance'],
  ['unverified', 'unverified'],
  ['drift', 'drifted'],
  ['error', 'errors'],
  ['skipped', 'skipped']
];

/** The section's content for `state`'s notebook, rebuilt on every state change. */
export function renderVerify(state: NotebookReproState, actions: IVerifyActions): Node[] {
  const verifier = state.verifier;
  const v: IVerifyState = verifier.state;
  const running = verifier.running;
  const nodes: Node[] = [];
  const start = button('Re-execute and compare', () => actions.reexecute(state.panel), {
    class: 'jp-Button jp-mod-styled jp-mod-accept jp-repro-reexecute',
    title:
      'Restart the kernel, run every cell with the recorded seeds and compare with the recorded outputs'
  });
  start.disabled = running;
  nodes.push(h('div', { class: 'jp-repro-actions' }, start));

  if (running) {
    const p = v.progress;
    const text =
      p && p.phase === 'running'
        ? `Cell ${p.done} of ${p.total}`
        : (PHASE_TEXT[v.phase] ?? 'Working…');
    const bar = h('progress', {
      class: 'jp-repro-progress-bar',
      max: String(p?.total || 1),
      value: String(p?.phase === 'running' ? p.done - 1 : 0)
    });
    nodes.push(
      h(
        'div',
        { class: 'jp-repro-progress' },
        h('div', { class: 'jp-repro-progress-text' }, text),
        bar,
        button('Cancel', () => verifier.cancel(), {
          class: 'jp-Button jp-mod-styled jp-mod-reject jp-repro-cancel'
        })
      )
    );
    return nodes;
  }
  if (v.phase === 'failed') {
    nodes.push(note(`Could not re-execute: ${v.message ?? 'unknown error'}`, 'error'));
    return nodes;
  }
  if (v.phase === 'cancelled') {
    nodes.push(note(v.message ?? 'Cancelled.'));
    return nodes;
  }
  if (v.phase === 'done' && v.report) {
    nodes.push(renderSummary(state, v, actions));
  }
  return nodes;
}

function renderSummary(
  state: NotebookReproState,
  v: IVerifyState,
  actions: IVerifyActions
): HTMLElement {
  const report = v.report!;
  const counts = countStatuses(report);
  const compared = report.cells.length - counts.skipped;
  const headline =
    report.status === 'reproduced'
      ? `All ${compared} cells reproduced`
      : report.status === 'drift'
        ? `Drift in ${counts.drift + counts.error} of ${compared} cells`
        : `Could not verify${report.reason ? `: ${report.reason}` : ''}`;
  const summary = h(
    'div',
    { class: `jp-repro-summary jp-repro-summary-${report.status}` },
    h('div', { class: 'jp-repro-headline' }, headline)
  );
  // For a drift, the first drifting cell and its causes below say it in structure.
  if (report.reason && report.status === 'reproduced') {
    summary.appendChild(h('div', { class: 'jp-repro-reason' }, report.reason));
  }
  const list = h('ul', { class: 'jp-repro-counts' });
  for (const [key, label] of SUMMARY_LABELS) {
    if (counts[key] || key === 'same' || key === 'drift') {
      list.appendChild(
        h(
          'li',
          {
            class: `jp-repro-count jp-repro-count-${key}${counts[key] ? '' : ' jp-repro-count-zero'}`
          },
          h('span', { class: 'jp-repro-count-n' }, String(counts[key])),
          ` ${label}`
        )
      );
    }
  }
  summary.appendChild(list);
  if (v.stopped) {
    summary.appendChild(
      note(`Stopped at cell ${v.stopped.cellIndex + 1}: ${v.stopped.message}`, 'error')
    );
  }
  const first = report.first_drift;
  if (first) {
    const link = button(
      `cell ${first.index + 1}`,
      () => actions.goToCell(state.panel, first.index, first.id),
      {
        class: 'jp-repro-link jp-repro-first-drift',
        title: 'Go to the first drifting cell'
      }
    );
    summary.appendChild(h('div', { class: 'jp-repro-first' }, 'First drift: ', link));
    const cell = report.cells.find(c => c.index === first.index);
    if (cell?.causes.length) {
      summary.appendChild(renderCauses(cell.causes));
    }
  }
  if (v.highlighted.length) {
    summary.appendChild(
      h(
        'div',
        { class: 'jp-repro-actions' },
        button('Accept all', () => state.verifier.acceptAll(), {
          class: 'jp-Button jp-mod-styled jp-mod-warn jp-repro-accept-all',
          title:
            'Accept all new outputs: replace the recorded outputs and records of every cell with the re-executed ones'
        }),
        button('Dismiss', () => state.verifier.dismissAll(), {
          class: 'jp-Button jp-mod-styled jp-mod-reject jp-repro-dismiss-all',
          title: 'Keep the recorded outputs and remove the highlights'
        })
      )
    );
  }
  return summary;
}
