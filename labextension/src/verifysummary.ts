/**
 * The summary of the server's drift report in the Verify section: the
 * headline and its colour, the counts per status, the cells that raised or
 * were not compared (verifynotices.ts), the first drifting cell with its
 * ranked causes, and Accept all / Dismiss. It follows Accept/Dismiss: a
 * resolved drift is no longer counted as open, and when none is left it says
 * so. "Accept all" overwrites recorded outputs, so it asks first.
 *
 * The summary is green only when every compared cell reproduced cleanly. A
 * notebook that was never recorded says so in its headline: only its saved
 * outputs were compared.
 */
import { Dialog, showDialog } from '@jupyterlab/apputils';
import { button, h, note } from './dom';
import { markResolved, renderCauses, resolutionOf } from './driftview';
import type { CellComparison } from './schema';
import type { NotebookReproState } from './state';
import type { IVerifyState } from './verify';
import {
  cellList,
  notices,
  renderNotices,
  skippedQuietly,
  type GoToCell
} from './verifynotices';

type Status = CellComparison['status'];

const SUMMARY_LABELS: [Status, string][] = [
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
  for (const cell of v.drifted) {
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

/** The summary of `v`'s report (the run is done). */
export function renderSummary(
  state: NotebookReproState,
  v: IVerifyState,
  goToCell: GoToCell
): HTMLElement {
  const report = v.report!;
  // The server's counts per status (an error report has none).
  const counts: Partial<Record<Status, number>> = { ...report.summary };
  const count = (status: Status): number => counts[status] ?? 0;
  const compared = report.cells.length - count('skipped');
  const progress = driftProgress(v);
  const resolved = progress.accepted + progress.dismissed + progress.rerun;
  // Drifts the user accepted or dismissed are no longer counted as open.
  for (const cell of v.drifted) {
    if (!progress.open.includes(cell)) {
      counts[cell.status] = count(cell.status) - 1;
    }
  }
  const allResolved =
    report.status === 'drift' && !progress.open.length && resolved > 0;
  const found =
    report.status === 'error' ? [] : notices(state, report, v.drifted);
  const serious = found.filter(n => n.serious);
  const unrecorded = report.recorded === false && report.status !== 'error';
  // Empty and configuration cells are no part of "N cells".
  counts.skipped =
    count('skipped') -
    report.cells.filter(
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
    const n = count(key);
    if (n || key === 'same' || key === 'drift') {
      list.appendChild(
        h(
          'li',
          {
            class: `jp-repro-count jp-repro-count-${key}${n ? '' : ' jp-repro-count-zero'}`
          },
          h('span', { class: 'jp-repro-count-n' }, String(n)),
          ` ${(unrecorded && UNRECORDED_LABELS[key]) || label}`
        )
      );
    }
  }
  summary.appendChild(list);
  if (found.length) {
    summary.appendChild(renderNotices(state, found, goToCell));
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
      () => goToCell(state.panel, firstCell.index, firstCell.id),
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
