/**
 * Re-execute a recorded notebook in a fresh kernel and ask the server to
 * compare the result with the recording.
 *
 *   1. snapshot the notebook as recorded (outputs + metadata) and hold saves
 *      (autosave included) until the recorded state is back;
 *   2. ask the server to give the kernel's next start the replay environment
 *      (`kernel-env`: PYTHONHASHSEED, CUBLAS_WORKSPACE_CONFIG in deterministic
 *      mode), restart the kernel and send it `configure_replay` (runnercomm.ts:
 *      a JSON request on the kernel's runner comm, one typed reply);
 *   3. execute every code cell in order, reporting "cell k of n";
 *   4. send `flush_records` (the new records are on disk), snapshot
 *      the re-executed notebook and POST `compare`;
 *   5. always put the recorded outputs and metadata back, whatever happened.
 *
 * A stop (Cancel, a dead kernel, a restart by someone else, a timeout) returns
 * at once: the cell in flight is detached from its output area, the recorded
 * outputs and metadata are restored, and what the replay's kernel still says
 * about it (outputs, a `cell_recorded` of the interrupted cell) is dropped
 * until it is idle again; after a Cancel the kernel is interrupted, and
 * restarted in the background if the interrupt does not stop it.
 *
 * The kernel's part of each step (the calls, their time limits, the guard
 * against a kernel that dies) is in replaykernel.ts; this module orders the
 * steps and keeps the notebook's recorded state safe around them.
 */
import { CodeCell } from '@jupyterlab/cells';
import type * as nbformat from '@jupyterlab/nbformat';
import type { NotebookPanel } from '@jupyterlab/notebook';
import { compare, type ICompareOptions } from './api';
import { METADATA_KEY } from './comm';
import {
  CancelledError,
  configureReplayRequest,
  DEFAULT_TIMEOUTS,
  kernelGuard,
  ReexecuteError,
  replayStep,
  setReplayEnvironment,
  settleStoppedKernel,
  withTimeout
} from './replaykernel';
import type { CellMetadata, DriftReport, NotebookMetadata } from './schema';
import {
  holdSaves,
  restoreCells,
  restoreNotebookMetadata,
  takeSnapshot
} from './snapshot';

export type ReexecutePhase =
  'restarting' | 'configuring' | 'running' | 'flushing' | 'comparing';

export interface IReexecuteProgress {
  phase: ReexecutePhase;
  /** Code cells started so far (1-based while running). */
  done: number;
  total: number;
  /** Notebook index of the cell being executed. */
  cellIndex: number | null;
}

/** Where the run stopped early because a cell raised an error it had not raised when recorded. */
export interface IStopped {
  cellIndex: number;
  message: string;
}

export interface IReexecuteResult {
  recorded: nbformat.INotebookContent;
  current: nbformat.INotebookContent;
  report: DriftReport;
  stopped: IStopped | null;
}

export interface IReexecuteOptions {
  onProgress?: (progress: IReexecuteProgress) => void;
  /** Aborting interrupts the kernel and stops the run (a CancelledError is thrown). */
  signal?: AbortSignal;
  compareOptions?: ICompareOptions;
  /** Limits in ms for the steps that must not hang (cells themselves have none). */
  timeouts?: Partial<typeof DEFAULT_TIMEOUTS>;
}

/** The cell's status as recorded (`error`: it raised when recorded, so raising again is no stop). */
function recordedStatus(
  snapshot: nbformat.INotebookContent,
  cellId: string
): string | undefined {
  const cell = snapshot.cells.find(c => c.id === cellId);
  return (cell?.metadata?.[METADATA_KEY] as CellMetadata | undefined)?.status;
}

/** Cells after `stoppedIndex` did not run: they must not look as if they had reproduced. */
function blankAfter(
  snapshot: nbformat.INotebookContent,
  stoppedIndex: number
): void {
  snapshot.cells.forEach((cell, i) => {
    if (i > stoppedIndex && cell.cell_type === 'code') {
      const code = cell as nbformat.ICodeCell;
      code.outputs = [];
      code.execution_count = null;
    }
  });
}

/**
 * Re-execute `panel`'s notebook and compare it with its recording. The
 * notebook ends with its recorded outputs and metadata in every case, and
 * returns (or throws) as soon as the run stops.
 */
export async function reexecuteAndCompare(
  panel: NotebookPanel,
  options: IReexecuteOptions = {}
): Promise<IReexecuteResult> {
  const timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
  const ctx = panel.sessionContext;
  const model = panel.context.model;
  const signal = options.signal;
  await ctx.ready;
  const first = ctx.session?.kernel;
  if (!first) {
    throw new ReexecuteError('no kernel: start one first');
  }
  const recorded = takeSnapshot(panel);
  const meta = recorded.metadata?.[METADATA_KEY] as
    NotebookMetadata | undefined;
  const wasDirty = model.dirty;
  const cells = panel.content.widgets.filter(
    (c): c is CodeCell => c.model.type === 'code'
  );
  const total = cells.length;
  let done = 0;
  let cellIndex: number | null = null;
  const report = (phase: ReexecutePhase): void =>
    options.onProgress?.({ phase, done, total, cellIndex });
  const checkCancel = (): void => {
    if (signal?.aborted) {
      throw new CancelledError(cellIndex);
    }
  };
  // Every wait also ends on Cancel, at once.
  let onCancel: () => void = () => undefined;
  const cancelled = new Promise<never>((_, reject) => {
    onCancel = () => reject(new CancelledError(cellIndex));
  });
  cancelled.catch(() => undefined);
  const orCancel = <T>(promise: Promise<T>): Promise<T> =>
    Promise.race([promise, cancelled]);

  let guard: ReturnType<typeof kernelGuard> | null = null;
  // The cell in flight: on a stop it is detached from its output area, so
  // that its late outputs cannot write over the restored ones.
  let inflight: CodeCell | null = null;
  let finished = false;
  const onAbort = (): void => {
    void ctx.session?.kernel?.interrupt().catch(() => undefined);
    onCancel();
  };
  signal?.addEventListener('abort', onAbort);
  const releaseSaves = holdSaves(panel.context);
  try {
    report('restarting');
    checkCancel();
    try {
      await orCancel(setReplayEnvironment(first.id, !!meta?.deterministic));
    } catch (error) {
      if (error instanceof CancelledError) {
        throw error;
      }
      const why = error instanceof Error ? error.message : String(error);
      throw new ReexecuteError(
        `the server could not prepare the replay's kernel (${why}); the kernel was not restarted`
      );
    }
    checkCancel();
    await orCancel(
      withTimeout(ctx.restartKernel(), timeouts.restart, 'the kernel restart')
    );
    const kernel = ctx.session?.kernel;
    if (!kernel || kernel.status === 'dead') {
      throw new ReexecuteError('the kernel could not be restarted');
    }
    guard = kernelGuard(panel, signal, () =>
      cellIndex === null
        ? 'before the first cell'
        : `while cell ${cellIndex + 1} ran`
    );

    report('configuring');
    await Promise.race([
      withTimeout(
        replayStep(kernel, configureReplayRequest(meta)),
        timeouts.configure,
        'configure_replay'
      ),
      guard.promise
    ]);

    let stopped: IStopped | null = null;
    for (const cell of cells) {
      checkCancel();
      cellIndex = panel.content.widgets.indexOf(cell);
      done += 1;
      report('running');
      const execution = CodeCell.execute(cell, ctx);
      execution.catch(() => undefined); // a detached execution rejects; nobody waits for it then
      inflight = cell;
      const reply = await Promise.race([execution, guard.promise]);
      inflight = null;
      checkCancel();
      const content = reply?.content;
      if (
        content?.status === 'error' &&
        recordedStatus(recorded, cell.model.id) !== 'error'
      ) {
        stopped = { cellIndex, message: `${content.ename}: ${content.evalue}` };
        break;
      }
      if (content?.status === 'aborted') {
        stopped = { cellIndex, message: 'the kernel aborted the execution' };
        break;
      }
    }

    report('flushing');
    await Promise.race([
      withTimeout(
        replayStep(kernel, { type: 'flush_records' }),
        timeouts.flush,
        'flush_records'
      ),
      guard.promise
    ]);
    guard.dispose();
    guard = null;
    finished = true;

    const current = takeSnapshot(panel);
    if (stopped) {
      blankAfter(current, stopped.cellIndex);
    }
    report('comparing');
    const drift = await orCancel(
      compare(panel.context.path, recorded, current, options.compareOptions)
    );
    return { recorded, current, report: drift, stopped };
  } finally {
    guard?.dispose();
    signal?.removeEventListener('abort', onAbort);
    if (inflight) {
      // Stop listening to the cell's execution: disposing its future drops
      // whatever the kernel still sends for it (a KeyboardInterrupt traceback).
      const future = inflight.outputArea.future;
      if (future && !future.isDisposed) {
        future.dispose();
      }
    }
    if (!finished) {
      void settleStoppedKernel(panel, !!signal?.aborted);
    }
    restoreCells(panel, recorded);
    restoreNotebookMetadata(panel, recorded);
    if (!wasDirty) {
      // The editor holds exactly what was saved again.
      model.dirty = false;
    }
    releaseSaves();
  }
}
