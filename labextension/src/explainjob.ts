/**
 * One notebook's explain job, seen from the page (the server runs one job per
 * notebook, in a process of its own): `ExplainSession` starts it
 * (saving the notebook first: explain runs the saved file), attaches to one
 * started before, polls it while it runs and cancels it; one session per
 * notebook path, shared by every drift view of that notebook. Also whether a
 * notebook is being re-executed meanwhile ("Find the cause" waits for it).
 * No DOM here: explainview.ts shows the state.
 */
import { NotebookPanel } from '@jupyterlab/notebook';
import type { Cell } from '@jupyterlab/cells';
import { Signal, type ISignal } from '@lumino/signaling';
import {
  cancelExplain,
  explainStatus,
  startExplain,
  type IExplainJob
} from './api';

const POLL_MS = 1000;

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function delay(ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms));
}

/** Display state of one notebook's explain job. */
export interface IExplainState {
  job: IExplainJob | null;
  /** Saving or starting: the request is in flight. */
  starting: boolean;
  /** A one-line error of a request (the job's own failure is `job.error`). */
  error: string | null;
}

/** The explain job of one notebook, polled while it runs. */
export class ExplainSession {
  constructor(readonly path: string) {}

  get changed(): ISignal<this, IExplainState> {
    return this._changed;
  }

  get state(): IExplainState {
    return this._state;
  }

  get running(): boolean {
    return this._state.starting || this._state.job?.state === 'running';
  }

  /** Attach to a job started before (another tab, a reload); finished ones are not shown again. */
  async attach(): Promise<void> {
    if (this._attached || this.running || this._state.job) {
      return;
    }
    this._attached = true;
    try {
      const job = await explainStatus({ path: this.path });
      if (job.state === 'running' && !this._state.job) {
        this._set({ job });
        void this._poll(job.job as string);
      }
    } catch {
      // no server extension or an old one: the button still says why when clicked
    }
  }

  /** Save the notebook if it has unsaved changes (explain runs the saved file), then start. */
  async start(panel: NotebookPanel | null): Promise<void> {
    if (this.running) {
      return;
    }
    this._set({ starting: true, error: null });
    try {
      if (panel && panel.context.model.dirty) {
        await panel.context.save();
      }
      const job = await startExplain(this.path);
      this._set({ job, starting: false });
      if (job.state === 'running' && job.job) {
        await this._poll(job.job);
      }
    } catch (error) {
      this._set({ starting: false, error: describe(error) });
    }
  }

  async cancel(): Promise<void> {
    const id = this._state.job?.job;
    if (!id || this._state.job?.state !== 'running') {
      return;
    }
    try {
      this._set({ job: await cancelExplain(id) });
    } catch (error) {
      this._set({ error: describe(error) });
    }
  }

  private async _poll(id: string): Promise<void> {
    if (this._polling === id) {
      return;
    }
    this._polling = id;
    try {
      while (this._polling === id) {
        await delay(POLL_MS);
        let job: IExplainJob;
        try {
          job = await explainStatus({ job: id });
        } catch (error) {
          this._set({ error: describe(error) });
          if (this._state.job) {
            this._set({
              job: { ...this._state.job, state: 'failed', progress: null }
            });
          }
          return;
        }
        if (this._state.job?.job !== id) {
          return; // cancelled and started again meanwhile
        }
        this._set({ job });
        if (job.state !== 'running') {
          return;
        }
      }
    } finally {
      if (this._polling === id) {
        this._polling = null;
      }
    }
  }

  private _set(change: Partial<IExplainState>): void {
    this._state = { ...this._state, ...change };
    this._changed.emit(this._state);
  }

  private _state: IExplainState = { job: null, starting: false, error: null };
  private _changed = new Signal<this, IExplainState>(this);
  private _attached = false;
  private _polling: string | null = null;
}

const sessions = new Map<string, ExplainSession>();

/** The session of the notebook at `path` (one per path for the page's life). */
export function sessionFor(path: string): ExplainSession {
  let session = sessions.get(path);
  if (!session) {
    session = new ExplainSession(path);
    sessions.set(path, session);
  }
  return session;
}

const reexecuting = new WeakSet<NotebookPanel>();
const reexecutingChanged = new Signal<object, NotebookPanel>({});

/** Emits a notebook panel whose re-execution started or ended. */
export const reexecutingStateChanged: ISignal<object, NotebookPanel> =
  reexecutingChanged;

/** Whether `panel` is being re-executed (see `setReexecuting`). */
export function isReexecuting(panel: NotebookPanel): boolean {
  return reexecuting.has(panel);
}

/**
 * Say that `panel` is being re-executed (or no longer is): "Find the cause"
 * is disabled meanwhile. Drift views are also removed while a re-execution
 * runs, so this is the second guard, for views that outlive its start.
 */
export function setReexecuting(panel: NotebookPanel, running: boolean): void {
  if (running) {
    reexecuting.add(panel);
  } else {
    reexecuting.delete(panel);
  }
  reexecutingChanged.emit(panel);
}

/** The notebook panel a cell widget lives in (the cell's parent chain). */
export function panelOf(cell: Cell): NotebookPanel | null {
  let node = cell.parent;
  while (node && !(node instanceof NotebookPanel)) {
    node = node.parent;
  }
  return node instanceof NotebookPanel ? node : null;
}
