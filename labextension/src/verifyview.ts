/**
 * The Verify section of the panel: the "Re-execute and compare" button,
 * the progress ("cell k of n", Cancel) while it runs, then the summary of the
 * server's drift report (counts, first drifting cell, its ranked causes,
 * Accept all / Dismiss). The summary follows Accept/Dismiss: a resolved drift
 * is no longer counted as open, and when none is left it says so. "Accept
 * all" overwrites recorded outputs, so it asks first.
 *
 * The summary is green only when every compared cell reproduced cleanly: a
 * cell that raised (even the recorded error, reproduced) or a cell left out of
 * the comparison for a reason other than being empty is named, with why, and
 * turns it amber. A notebook that was never recorded says so in its headline:
 * only its saved outputs were compared.
 */
import { Dialog, showDialog } from '@jupyterlab/apputils';
import type * as nbformat from '@jupyterlab/nbformat';
import type { NotebookPanel } from '@jupyterlab/notebook';
import { button, h, note } from './dom';
import {
  isDrifted,
  markResolved,
  renderCauses,
  resolutionOf
} from './driftview';
import type { CellComparison, DriftReport } from './schema';
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

/** Without a record only outputs were compared: "reproduced" would claim more than that. */
const UNRECORDED_LABELS: Partial<Record<string, string>> = {
  same: 'same as saved',
  drift: 'differ from saved'
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
    nodes.push(renderSummary(state, v, actions));
  }
  return nodes;
}

/** The report's drifted cells, split into still open and resolved ones. */
interface IDriftProgress {
  open: CellComparison[];
  accepted: number;
  dismissed: number;
  /** Resolved otherwise: the cell ran again. */
  rerun: number;
}

function driftProgress(v: IVerifyState): IDriftProgress {
  const progress: IDriftProgress = {
    open: [],
    accepted: 0,
    dismissed: 0,
    rerun: 0
  };
  for (const cell of v.report?.cells ?? []) {
    if (!isDrifted(cell)) {
      continue;
    }
    const how = resolutionOf(cell);
    const open =
      how === undefined &&
      (cell.id === null || v.highlighted.includes(cell.id));
    if (open) {
      progress.open.push(cell);
    } else if (how === 'accepted') {
      progress.accepted++;
    } else if (how === 'dismissed') {
      progress.dismissed++;
    } else {
      progress.rerun++;
    }
  }
  progress.open.sort((a, b) => a.index - b.index);
  return progress;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** Ask, then accept every open drift (all cells when none was dismissed). */
async function confirmAcceptAll(
  state: NotebookReproState,
  v: IVerifyState
): Promise<void> {
  const progress = driftProgress(v);
  const open = progress.open;
  if (!open.length) {
    return;
  }
  const keepSome = progress.dismissed > 0;
  const body = keepSome
    ? `The recorded outputs and records of the ${plural(open.length, 'cell')} still drifting ` +
      'will be replaced by the re-executed ones. Dismissed cells keep their recorded outputs.'
    : `The recorded outputs and records of every code cell will be replaced by the re-executed ones ` +
      `(${plural(open.length, 'cell')} drifted). The recording is overwritten when the notebook is saved.`;
  const result = await showDialog({
    title: 'Accept all new outputs?',
    body,
    buttons: [
      Dialog.cancelButton(),
      Dialog.warnButton({ label: 'Accept all' })
    ],
    defaultButton: 0
  });
  const now = state.verifier.state;
  if (
    !result.button.accept ||
    now.report !== v.report ||
    state.verifier.running
  ) {
    return; // cancelled, or another run replaced this report meanwhile
  }
  const stillOpen = driftProgress(now).open;
  for (const cell of stillOpen) {
    markResolved(cell, 'accepted');
  }
  if (keepSome) {
    for (const cell of stillOpen) {
      if (cell.id !== null) {
        state.verifier.acceptCell(cell.id);
      }
    }
  } else {
    state.verifier.acceptAll();
  }
}

function dismissAll(state: NotebookReproState, v: IVerifyState): void {
  for (const cell of driftProgress(v).open) {
    markResolved(cell, 'dismissed');
  }
  state.verifier.dismissAll();
}

/** A cell the summary must name: what happened to it, and whether it keeps the summary from green. */
interface INotice {
  cell: CellComparison;
  text: string;
  /** A recorded error or a cell that could not be compared (not: an empty or tag-skipped cell). */
  serious: boolean;
}

/** "ZeroDivisionError: division by zero" from the cell's outputs as they are now (the recorded ones). */
function errorOutput(
  state: NotebookReproState,
  cell: CellComparison
): string | null {
  const widgets = state.panel.content.widgets;
  const widget =
    widgets.find(w => cell.id !== null && w.model.id === cell.id) ??
    widgets[cell.index];
  const outputs =
    widget?.model.type === 'code' ? widget.model.toJSON().outputs : undefined;
  const error = ((outputs ?? []) as nbformat.IOutput[]).find(
    o => o.output_type === 'error'
  ) as nbformat.IError | undefined;
  if (error) {
    return error.evalue ? `${error.ename}: ${error.evalue}` : error.ename;
  }
  const provenance = state.provenance.data?.cells.find(c =>
    cell.id !== null ? c.id === cell.id : c.index === cell.index
  );
  return provenance?.status === 'error' ? 'an error' : null;
}

/** Cells left out by design, not for want of something to compare: named nowhere, counted nowhere. */
function skippedQuietly(why: string): boolean {
  return why === 'empty cell' || why.startsWith('configuration cell');
}

function notices(state: NotebookReproState, report: DriftReport): INotice[] {
  const out: INotice[] = [];
  let raised: CellComparison | null = null;
  for (const cell of report.cells) {
    const name = `Cell ${cell.index + 1}`;
    if (cell.status === 'skipped') {
      const why = cell.differences[0]?.detail ?? 'not compared';
      if (skippedQuietly(why)) {
        continue;
      }
      const tagged = why === 'skipped by tag';
      const after =
        raised && !tagged
          ? ` (it comes after cell ${raised.index + 1}, which raised)`
          : '';
      out.push({
        cell,
        text: tagged
          ? `${name} skipped: ${why}.`
          : `${name} not compared: ${why}${after}.`,
        serious: !tagged
      });
      continue;
    }
    if (isDrifted(cell)) {
      continue; // the first drift and its causes say it
    }
    const error = errorOutput(state, cell);
    if (error) {
      raised = raised ?? cell;
      out.push({
        cell,
        text: `${name} raised ${error}, as when it was recorded.`,
        serious: true
      });
    }
  }
  return out;
}

/** "cell 3" or "cells 2, 4 and 7": people count cells from 1, among all cells. */
export function cellList(cells: CellComparison[]): string {
  const numbers = cells.map(c => String(c.index + 1));
  const words =
    numbers.length === 1
      ? numbers[0]
      : `${numbers.slice(0, -1).join(', ')} and ${numbers.slice(-1)}`;
  return `${numbers.length === 1 ? 'cell' : 'cells'} ${words}`;
}

function renderNotices(
  state: NotebookReproState,
  list: INotice[],
  actions: IVerifyActions
): HTMLElement {
  const ul = h('ul', { class: 'jp-repro-notices' });
  for (const notice of list) {
    const go = button(
      `cell ${notice.cell.index + 1}`,
      () => actions.goToCell(state.panel, notice.cell.index, notice.cell.id),
      {
        class: 'jp-repro-link',
        title: 'Go to this cell'
      }
    );
    ul.appendChild(
      h(
        'li',
        {
          class: `jp-repro-notice${notice.serious ? ' jp-repro-notice-serious' : ''}`
        },
        h('span', { class: 'jp-repro-notice-text' }, notice.text),
        ' ',
        go
      )
    );
  }
  return ul;
}

function renderSummary(
  state: NotebookReproState,
  v: IVerifyState,
  actions: IVerifyActions
): HTMLElement {
  const report = v.report!;
  const counts = countStatuses(report);
  const compared = report.cells.length - counts.skipped;
  const progress = driftProgress(v);
  const resolved = progress.accepted + progress.dismissed + progress.rerun;
  // Drifts the user accepted or dismissed are no longer counted as open.
  for (const cell of report.cells) {
    if (isDrifted(cell) && !progress.open.includes(cell)) {
      counts[cell.status]--;
    }
  }
  const allResolved =
    report.status === 'drift' && !progress.open.length && resolved > 0;
  const found = report.status === 'error' ? [] : notices(state, report);
  const serious = found.filter(n => n.serious);
  const unrecorded = report.recorded === false && report.status !== 'error';
  // Empty and configuration cells are no part of "N cells".
  counts.skipped -= report.cells.filter(
    c =>
      c.status === 'skipped' && skippedQuietly(c.differences[0]?.detail ?? '')
  ).length;
  let kind: string = allResolved ? 'resolved' : report.status;
  let headline =
    report.status === 'reproduced'
      ? `All ${compared} cells reproduced`
      : allResolved
        ? 'All drifts resolved'
        : report.status === 'drift'
          ? `Drift in ${progress.open.length} of ${compared} cells`
          : `Could not verify${report.reason ? `: ${report.reason}` : ''}`;
  if (report.status === 'reproduced' && serious.length) {
    const errors = serious
      .filter(n => n.cell.status !== 'skipped')
      .map(n => n.cell);
    const left = serious
      .filter(n => n.cell.status === 'skipped')
      .map(n => n.cell);
    headline = errors.length
      ? `Reproduced, but ${cellList(errors)} raised an error`
      : `Reproduced, but ${cellList(left)} could not be compared`;
    kind = 'warn';
  }
  if (unrecorded) {
    // Nothing recorded: no seeds, data or environment were checked, whatever the outputs say.
    headline = 'Not recorded: outputs compared with the saved ones only';
    kind = 'unrecorded';
  }
  const summary = h(
    'div',
    { class: `jp-repro-summary jp-repro-summary-${kind}` },
    h('div', { class: 'jp-repro-headline' }, headline)
  );
  if (unrecorded) {
    const differ = progress.open.length;
    summary.appendChild(
      h(
        'div',
        { class: 'jp-repro-unrecorded-detail' },
        differ
          ? `${differ} of ${compared} cells differ from the saved outputs.`
          : `All ${compared} cells gave the saved outputs.`,
        ' To check seeds, data and environment too, record the notebook: run ',
        h('code', {}, '%load_ext repro_jupyter'),
        ' and ',
        h('code', {}, '%repro on'),
        ' in its first cell, run all cells and save, then re-execute and compare.'
      )
    );
  }
  if (resolved) {
    const parts: string[] = [];
    if (progress.accepted) {
      parts.push(`${progress.accepted} accepted`);
    }
    if (progress.dismissed) {
      parts.push(`${progress.dismissed} dismissed`);
    }
    if (progress.rerun) {
      parts.push(`${progress.rerun} run again`);
    }
    summary.appendChild(
      h(
        'div',
        {
          class: 'jp-repro-resolution',
          title: 'Drifted cells resolved since the re-execution'
        },
        parts.join(', ')
      )
    );
  }
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
          ` ${(unrecorded && UNRECORDED_LABELS[key]) || label}`
        )
      );
    }
  }
  summary.appendChild(list);
  if (found.length) {
    summary.appendChild(renderNotices(state, found, actions));
  }
  if (v.stopped) {
    summary.appendChild(
      note(
        `Stopped at cell ${v.stopped.cellIndex + 1}: ${v.stopped.message}`,
        'error'
      )
    );
  }
  // The first drift still open: the server's first unless it was resolved.
  const serverFirst = report.first_drift;
  const firstCell =
    progress.open.find(c => serverFirst && c.index === serverFirst.index) ??
    progress.open[0];
  if (firstCell) {
    const link = button(
      `cell ${firstCell.index + 1}`,
      () => actions.goToCell(state.panel, firstCell.index, firstCell.id),
      {
        class: 'jp-repro-link jp-repro-first-drift',
        title: 'Go to the first drifting cell'
      }
    );
    summary.appendChild(
      h('div', { class: 'jp-repro-first' }, 'First drift: ', link)
    );
    if (firstCell.causes.length) {
      summary.appendChild(renderCauses(firstCell.causes));
    }
  }
  if (v.highlighted.length) {
    summary.appendChild(
      h(
        'div',
        { class: 'jp-repro-actions' },
        button('Accept all', () => void confirmAcceptAll(state, v), {
          class: 'jp-Button jp-mod-styled jp-mod-warn jp-repro-accept-all',
          title:
            'Accept all new outputs: replace the recorded outputs and records with the re-executed ones (asks first)'
        }),
        button('Dismiss', () => dismissAll(state, v), {
          class: 'jp-Button jp-mod-styled jp-mod-reject jp-repro-dismiss-all',
          title: 'Keep the recorded outputs and remove the highlights'
        })
      )
    );
  }
  return summary;
}
