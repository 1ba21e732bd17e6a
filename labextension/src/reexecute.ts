/**
 * Re-execute a recorded notebook in a fresh kernel and ask the server to
 * compare the result with the recording.
 *
 *   1. snapshot the notebook as recorded (outputs + metadata) and hold saves
 *      (autosave included) until the recorded state is back;
 *   2. ask the server to give the kernel's next start the replay environment
 *      (`kernel-env`: PYTHONHASHSEED, CUBLAS_WORKSPACE_CONFIG in deterministic
 *      mode), restart the kernel and run `configure_replay` silently;
 *   3. execute every code cell in order, reporting "cell k of n";
 *   4. run `flush_records` silently (the new records are on disk), snapshot
 *      the re-executed notebook and POST `compare`;
 *   5. always put the recorded outputs and metadata back, whatever happened.
 *
 * A stop (Cancel, a dead kernel, a restart by someone else, a timeout) returns
 * at once: the cell in flight is detached from its output area, the recorded
 * outputs and metadata are restored, and what the replay's kernel still says
 * about it (outputs, a `cell_recorded` of the interrupted cell) is dropped
 * until it is idle again; after a Cancel the kernel is interrupted, and
 * restarted in the background if the interrupt does not stop it.
 */
import { CodeCell } from '@jupyterlab/cells';
import type * as nbformat from '@jupyterlab/nbformat';
import type { NotebookPanel } from '@jupyterlab/notebook';
import type { Kernel, KernelMessage } from '@jupyterlab/services';
import { compare, requestAPI, type ICompareOptions } from './api';
import { METADATA_KEY, muteMetadataWrites } from './comm';
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

export const DEFAULT_TIMEOUTS = {
  restart: 120_000,
  configure: 120_000,
  flush: 300_000
};

/** The user cancelled. */
export class CancelledError extends Error {
  constructor(readonly cellIndex: number | null) {
    super('cancelled');
    this.name = 'CancelledError';
  }
}

/** Re-execution could not complete; the message is one line for the panel. */
export class ReexecuteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReexecuteError';
  }
}

/** The silent code that prepares a restarted kernel for the replay. */
export function configureReplayCode(
  metadata: NotebookMetadata | undefined
): string {
  const seed =
    typeof metadata?.master_seed === 'number'
      ? String(metadata.master_seed)
      : 'None';
  const deterministic = metadata?.deterministic ? 'True' : 'False';
  return `__import__('repro_jupyter.magics').magics.configure_replay(get_ipython(), ${seed}, ${deterministic})`;
}

/** The silent code that waits until the replay's records are on disk. */
export const FLUSH_RECORDS_CODE =
  "__import__('repro_jupyter.magics').magics.flush_records(get_ipython())";

/** How long a cancelled replay's kernel may take to become idle before it is restarted. */
const SETTLE_MS = 5_000;

/**
 * `POST kernel-env`: the environment the kernel gets at its next start (the
 * replay's restart). Returns what the server set.
 */
export async function setReplayEnvironment(
  kernelId: string,
  deterministic: boolean
): Promise<Record<string, string>> {
  const reply = await requestAPI<{ env: Record<string, string> }>(
    'kernel-env',
    {
      method: 'POST',
      body: JSON.stringify({ kernel_id: kernelId, deterministic })
    }
  );
  return reply.env;
}

/** Resolves true once the kernel of `ctx` is idle (or gone), false after `ms`. */
function whenIdle(
  ctx: NotebookPanel['sessionContext'],
  ms: number
): Promise<boolean> {
  return new Promise(resolve => {
    const kernel = ctx.session?.kernel;
    if (
      !kernel ||
      kernel.isDisposed ||
      kernel.status === 'idle' ||
      kernel.status === 'dead'
    ) {
      resolve(true);
      return;
    }
    const finish = (idle: boolean): void => {
      clearTimeout(timer);
      ctx.statusChanged.disconnect(onStatus);
      resolve(idle);
    };
    const onStatus = (_: unknown, status: Kernel.Status): void => {
      if (status === 'idle' || status === 'dead') {
        finish(true);
      }
    };
    const timer = setTimeout(() => finish(false), ms);
    ctx.statusChanged.connect(onStatus);
  });
}

/**
 * After a stopped replay: drop the kernel's metadata messages until it is
 * idle; a cancelled one still busy after SETTLE_MS is restarted (its state is
 * a partial replay, nothing of the user's). Runs in the background.
 */
/** Kernel side of a replay that stopped early (cancel, failure): see repro_jupyter.magics.end_replay. */
const END_REPLAY =
  "__import__('repro_jupyter.magics', fromlist=['end_replay']).end_replay(get_ipython())";

async function settleStoppedKernel(
  panel: NotebookPanel,
  cancelled: boolean
): Promise<void> {
  const unmute = muteMetadataWrites(panel);
  try {
    const idle = await whenIdle(panel.sessionContext, SETTLE_MS);
    if (!idle && cancelled && !panel.isDisposed) {
      console.warn(
        'repro-jupyter: the interrupted replay did not stop; restarting the kernel'
      );
      await panel.sessionContext.restartKernel();
    } else if (idle && !panel.isDisposed) {
      // The replay never reached flush_records: give the kernel back its user's seed and settings.
      const kernel = panel.sessionContext.session?.kernel;
      await kernel
        ?.requestExecute({
          code: END_REPLAY,
          silent: true,
          store_history: false,
          allow_stdin: false
        })
        .done.catch(() => undefined);
    }
  } catch (error) {
    console.warn(
      'repro-jupyter: could not settle the kernel after a stopped replay',
      error
    );
  } finally {
    unmute();
  }
}

function withTimeout<T>(
  promise: Promise<T>,
  ms: number,
  what: string
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new ReexecuteError(
            `${what} did not finish within ${Math.round(ms / 1000)} s`
          )
        ),
      ms
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function runSilent(
  kernel: Kernel.IKernelConnection,
  code: string,
  what: string
): Promise<void> {
  const future = kernel.requestExecute({
    code,
    silent: true,
    store_history: false,
    allow_stdin: false
  });
  let reply: KernelMessage.IExecuteReplyMsg;
  try {
    reply = await future.done;
  } catch (error) {
    throw new ReexecuteError(`${what}: ${String(error)}`);
  }
  const content = reply.content;
  if (content.status === 'error') {
    throw new ReexecuteError(
      `${what} failed: ${content.ename}: ${content.evalue}`
    );
  }
}

/**
 * A promise that rejects when the kernel dies, is restarted or replaced
 * behind our back, or the run is cancelled; `dispose` stops watching.
 */
function kernelGuard(
  panel: NotebookPanel,
  signal: AbortSignal | undefined,
  where: () => string
): { promise: Promise<never>; dispose: () => void } {
  const ctx = panel.sessionContext;
  let fail: (error: Error) => void = () => undefined;
  const promise = new Promise<never>((_, reject) => (fail = reject));
  promise.catch(() => undefined); // observed by the race; avoid unhandled rejections
  const onStatus = (_: unknown, status: Kernel.Status): void => {
    if (status === 'dead' || status === 'autorestarting') {
      fail(new ReexecuteError(`the kernel died ${where()}`));
    } else if (status === 'restarting') {
      // Also what the server reports when it restarts a kernel that died.
      fail(new ReexecuteError(`the kernel died or was restarted ${where()}`));
    }
  };
  const onConnection = (_: unknown, status: Kernel.ConnectionStatus): void => {
    if (status === 'disconnected') {
      fail(new ReexecuteError(`lost the connection to the kernel ${where()}`));
    }
  };
  const onKernel = (): void =>
    fail(new ReexecuteError(`the kernel was changed ${where()}`));
  const onAbort = (): void => fail(new CancelledError(null));
  ctx.statusChanged.connect(onStatus);
  ctx.connectionStatusChanged.connect(onConnection);
  ctx.kernelChanged.connect(onKernel);
  signal?.addEventListener('abort', onAbort);
  if (signal?.aborted) {
    onAbort();
  }
  return {
    promise,
    dispose: () => {
      ctx.statusChanged.disconnect(onStatus);
      ctx.connectionStatusChanged.disconnect(onConnection);
      ctx.kernelChanged.disconnect(onKernel);
      signal?.removeEventListener('abort', onAbort);
    }
  };
}

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
        runSilent(kernel, configureReplayCode(meta), 'configure_replay'),
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
        runSilent(kernel, FLUSH_RECORDS_CODE, 'flush_records'),
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
