/**
 * The Verify section of the panel: the "Re-execute and compare" button, the
 * progress ("cell k of n", Cancel) while it runs, why a run failed or was
 * cancelled, then the summary of the server's drift report
 * (verifysummary.ts).
 */
import type { NotebookPanel } from '@jupyterlab/notebook';
import { button, h, note } from './dom';
import type { NotebookReproState } from './state';
import type { IVerifyState } from './verify';
import type { GoToCell } from './verifynotices';
import { renderSummary } from './verifysummary';

export interface IVerifyActions {
  reexecute: (panel: NotebookPanel) => void;
  goToCell: GoToCell;
}

const PHASE_TEXT: Record<string, string> = {
  restarting: 'Restarting the kernel…',
  configuring: 'Preparing the replay…',
  flushing: 'Writing the new records…',
  comparing: 'Comparing with the recording…'
};

/** The section's content for `state`'s notebook, rebuilt on every state change. */
export function renderVerify(
  state: NotebookReproState,
  actions: IVerifyActions
): Node[] {
  const verifier = state.verifier;
  const v: IVerifyState = verifier.state;
  const running = verifier.running;
  const nodes: Node[] = [];
  const start = button(
    'Re-execute and compare',
    () => actions.reexecute(state.panel),
    {
      class: 'jp-Button jp-mod-styled jp-mod-accept jp-repro-reexecute',
      title:
        'Restart the kernel, run every cell with the recorded seeds and compare with the recorded outputs'
    }
  );
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
    nodes.push(
      note(`Could not re-execute: ${v.message ?? 'unknown error'}`, 'error')
    );
    return nodes;
  }
  if (v.phase === 'cancelled') {
    nodes.push(note(v.message ?? 'Cancelled.'));
    return nodes;
  }
  if (v.phase === 'done' && v.report) {
    nodes.push(renderSummary(state, v, actions.goToCell));
  }
  return nodes;
}
