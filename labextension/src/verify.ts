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
  /** The report's drifting cells (`driftedCells`), open or resolved. */
  drifted: CellComparison[];
}

/** The verdict badge a compared cell gets. */
export type Verdict = 'reproduced' | 'unverified' | 'drift';

/**
 * What each status of the server's report shows as: `drift` and `error` are
 * the drifting statuses (the ones the report's status and first drift are
 * made of), highlighted with a drift view; skipped cells get no verdict.
 */
const STATUS_VERDICTS: Record<CellComparison['status'], Verdict | null> = {
  same: 'reproduced',
  benign: 'reproduced',
  within_tolerance: 'reproduced',
  unverified: 'unverified',
  drift: 'drift',
  error: 'drift',
  skipped: null
};

/** The verdict of a compared cell (null: not compared); a status this page does not know is never "reproduced". */
export function verdictOf(cell: CellComparison): Verdict | null {
  const verdict = STATUS_VERDICTS[cell.status];
  return verdict === undefined ? 'unverified' : verdict;
}

/** The report's drifting cells, in its order: the verifier keeps them in its state, once per report. */
export function driftedCells(report: DriftReport): CellComparison[] {
  return report.cells.filter(cell => verdictOf(cell) === 'drift');
}

/** The tooltip of a compared cell's verdict badge (display only: the status is the server's). */
export function verdictTitle(cell: CellComparison): string {
  const verdict = verdictOf(cell);
  if (verdict === 'unverified') {
    const why = cell.differences[0]?.detail ?? '';
    return `Not verified: ${why}`;
  }
  if (verdict !== 'drift') {
    return `Reproduced on re-execution (${statusLabel(cell.status)}).`;
  }
  // the server ranks the causes: the first is the most likely
  const top = cell.causes[0];
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
      highlighted: [],
      drifted: []
    });
    try {
      const result = await reexecuteAndCompare(this.panel, {
        signal: controller.signal,
        onProgress: progress =>
          this._setState({ ...this._state, phase: progress.phase, progress })
      });
      this._current = result.current;
      const drifted = driftedCells(result.report);
      const highlighted = this._apply(result.report);
      this._setState({
        ...this._state,
        phase: 'done',
        report: result.report,
        stopped: result.stopped,
        highlighted,
        drifted
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
      const verdict = verdictOf(comparison);
      if (verdict === null) {
        continue;
      }
      const cell = findCell(this.panel, comparison.id, comparison.index);
      if (!cell) {
        continue;
      }
      const id = cell.model.id;
      this._badges.setVerdict(id, {
        kind: verdict,
        title: verdictTitle(comparison)
      });
      if (verdict === 'drift') {
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
    highlighted: [],
    drifted: []
  };
  private _stateChanged = new Signal<this, IVerifyState>(this);
}
