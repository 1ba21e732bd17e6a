/**
 * One notebook's "Re-execute and compare": runs `reexecuteAndCompare`, keeps
 * the state the panel shows (progress, summary, failure), and applies the
 * report to the notebook: highlights and drift views on drifted cells,
 * badges on every compared cell, and "Accept new outputs" / "Dismiss".
 */
import type * as nbformat from '@jupyterlab/nbformat';
import type { NotebookPanel } from '@jupyterlab/notebook';
import { Signal, type ISignal } from '@lumino/signaling';
import type { NotebookBadges } from './badges';
import {
  clearHighlight,
  highlightCell,
  isDrifted,
  rankedCauses,
  statusLabel,
  CAUSE_LABELS
} from './driftview';
import {
  reexecuteAndCompare,
  type IReexecuteProgress,
  type IStopped
} from './reexecute';
import { CancelledError } from './replaykernel';
import type { CellComparison, DriftReport } from './schema';
import { findCell, restoreCells, restoreNotebookMetadata } from './snapshot';

export type VerifyPhase =
  'idle' | IReexecuteProgress['phase'] | 'done' | 'cancelled' | 'failed';

export interface IVerifyState {
  phase: VerifyPhase;
  progress: IReexecuteProgress | null;
  /** One line for `failed` / `cancelled`. */
  message: string | null;
  report: DriftReport | null;
  stopped: IStopped | null;
  /** Ids of the cells still highlighted (accepted or dismissed ones are removed). */
  highlighted: string[];
}

/** Count the report's cells per status (display only; the statuses are the server's). */
export function countStatuses(
  report: DriftReport
): Record<CellComparison['status'], number> {
  const counts = {
    same: 0,
    benign: 0,
    within_tolerance: 0,
    unverified: 0,
    drift: 0,
    error: 0,
    skipped: 0
  };
  for (const cell of report.cells) {
    counts[cell.status] = (counts[cell.status] ?? 0) + 1;
  }
  return counts;
}

/** The tooltip of a compared cell's verdict badge (display only: the status is the server's). */
export function verdictTitle(cell: CellComparison): string {
  if (cell.status === 'unverified') {
    const why = cell.differences[0]?.detail ?? '';
    return `Not verified: ${why}`;
  }
  if (!isDrifted(cell)) {
    return `Reproduced on re-execution (${statusLabel(cell.status)}).`;
  }
  const top = rankedCauses(cell.causes)[0];
  const cause = top
    ? `\nLikely cause: ${CAUSE_LABELS[top.kind] ?? top.kind}${top.detail ? ` — ${top.detail}` : ''}`
    : '';
  return `Re-execution ${statusLabel(cell.status)}: the outputs differ from the recorded ones.${cause}`;
}

export class NotebookVerifier {
  constructor(
    readonly panel: NotebookPanel,
    private readonly _badges: NotebookBadges
  ) {}

  get stateChanged(): ISignal<this, IVerifyState> {
    return this._stateChanged;
  }

  get state(): IVerifyState {
    return this._state;
  }

  get running(): boolean {
    return this._controller !== null;
  }

  /** Re-execute and compare; resolves when done, cancelled or failed (never rejects). */
  async run(): Promise<void> {
    if (this._controller) {
      return;
    }
    this.dismissAll();
    const controller = new AbortController();
    this._controller = controller;
    this._current = null;
    this._setState({
      phase: 'restarting',
      progress: null,
      message: null,
      report: null,
      stopped: null,
      highlighted: []
    });
    try {
      const result = await reexecuteAndCompare(this.panel, {
        signal: controller.signal,
        onProgress: progress =>
          this._setState({ ...this._state, phase: progress.phase, progress })
      });
      this._current = result.current;
      const highlighted = this._apply(result.report);
      this._setState({
        ...this._state,
        phase: 'done',
        report: result.report,
        stopped: result.stopped,
        highlighted
      });
    } catch (error) {
      if (error instanceof CancelledError || controller.signal.aborted) {
        const at = this._state.progress;
        const where =
          at && at.phase === 'running'
            ? ` at cell ${at.done} of ${at.total}`
            : '';
        this._setState({
          ...this._state,
          phase: 'cancelled',
          message: `Cancelled${where}; the recorded outputs and metadata are kept.`
        });
      } else {
        const message = error instanceof Error ? error.message : String(error);
        console.warn('repro-jupyter: re-execution failed', error);
        this._setState({ ...this._state, phase: 'failed', message });
      }
    } finally {
      this._controller = null;
      this._stateChanged.emit(this._state);
    }
  }

  /** Say in the panel why a run was not started (nothing was restarted or changed). */
  refuse(message: string): void {
    if (this._controller) {
      return;
    }
    this._setState({
      ...this._state,
      phase: 'failed',
      progress: null,
      message
    });
  }

  /** Interrupt the kernel and stop the run. */
  cancel(): void {
    this._controller?.abort();
  }

  /** Replace the recorded outputs and metadata of one cell with the re-executed ones. */
  acceptCell(cellId: string): void {
    if (this._current) {
      restoreCells(this.panel, this._current, new Set([cellId]));
    }
    this.dismissCell(cellId);
  }

  /** The same for every cell, and the notebook-level metadata. */
  acceptAll(): void {
    if (this._current) {
      restoreCells(this.panel, this._current);
      restoreNotebookMetadata(this.panel, this._current);
    }
    this.dismissAll();
  }

  /** Remove one cell's highlight, drift view and verdict badge; its recorded outputs stay. */
  dismissCell(cellId: string): void {
    const cell = findCell(this.panel, cellId);
    if (cell) {
      clearHighlight(cell);
    }
    this._badges.clearVerdicts([cellId]);
    const highlighted = this._state.highlighted.filter(id => id !== cellId);
    if (highlighted.length !== this._state.highlighted.length) {
      this._setState({ ...this._state, highlighted });
    }
  }

  /** Remove every highlight and verdict. */
  dismissAll(): void {
    for (const cell of this.panel.content.widgets) {
      clearHighlight(cell);
    }
    this._badges.clearVerdicts();
    if (this._state.highlighted.length) {
      this._setState({ ...this._state, highlighted: [] });
    }
  }

  /** A cell ran again: its verdict no longer describes it. */
  forgetCell(cellId: string): void {
    if (this._state.highlighted.includes(cellId)) {
      this.dismissCell(cellId);
    } else {
      this._badges.clearVerdicts([cellId]);
    }
  }

  /** Highlight drifted cells, badge every compared cell; returns the highlighted ids. */
  private _apply(report: DriftReport): string[] {
    const highlighted: string[] = [];
    for (const comparison of report.cells) {
      if (comparison.status === 'skipped') {
        continue;
      }
      const cell = findCell(this.panel, comparison.id, comparison.index);
      if (!cell) {
        continue;
      }
      const id = cell.model.id;
      const drifted = isDrifted(comparison);
      this._badges.setVerdict(id, {
        kind: drifted
          ? 'drift'
          : comparison.status === 'unverified'
            ? 'unverified'
            : 'reproduced',
        title: verdictTitle(comparison)
      });
      if (drifted) {
        highlightCell(cell, comparison, {
          accept: () => this.acceptCell(id),
          dismiss: () => this.dismissCell(id)
        });
        highlighted.push(id);
      }
    }
    this._badges.render();
    return highlighted;
  }

  private _setState(state: IVerifyState): void {
    this._state = state;
    this._stateChanged.emit(state);
  }

  private _controller: AbortController | null = null;
  private _current: nbformat.INotebookContent | null = null;
  private _state: IVerifyState = {
    phase: 'idle',
    progress: null,
    message: null,
    report: null,
    stopped: null,
    highlighted: []
  };
  private _stateChanged = new Signal<this, IVerifyState>(this);
}
