/**
 * The replay's kernel, step by step, for reexecute.ts: the environment it gets
 * at its restart (`kernel-env`), the `configure_replay` and `flush_records`
 * requests on the kernel's runner API (each with a time limit), the guard that ends the run
 * when the kernel dies, is restarted or replaced behind our back, and settling
 * a kernel after a replay that stopped early. Nothing here touches the
 * notebook's cells or metadata.
 */
import type { NotebookPanel } from '@jupyterlab/notebook';
import type { Kernel } from '@jupyterlab/services';
import { requestAPI } from './api';
import { muteMetadataWrites } from './comm';
import type {
  ConfigureReplayRequest,
  KernelEnvReply,
  RunnerRequest
} from './messages';
import { loadRunner, runnerRequest } from './runnercomm';
import type { NotebookMetadata } from './schema';

/** Limits in ms for the kernel steps that must not hang (cells themselves have none). */
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

/** The request that prepares a restarted kernel for the replay (the notebook's recorded seed). */
export function configureReplayRequest(
  metadata: NotebookMetadata | undefined
): ConfigureReplayRequest {
  const seed = metadata?.master_seed;
  return {
    type: 'configure_replay',
    seed:
      typeof seed === 'number' && Number.isSafeInteger(seed) && seed >= 0
        ? seed
        : null,
    deterministic: metadata?.deterministic === true
  };
}

/**
 * One replay step on the kernel's runner API (see runnercomm.ts); a
 * ReexecuteError naming the step when it fails. `configure_replay` first
 * loads the runner module: the kernel was just restarted.
 */
export async function replayStep(
  kernel: Kernel.IKernelConnection,
  request: RunnerRequest
): Promise<void> {
  try {
    if (request.type === 'configure_replay') {
      await loadRunner(kernel);
    }
    await runnerRequest(kernel, request);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new ReexecuteError(
      message.startsWith(request.type)
        ? message
        : `${request.type} failed: ${message}`
    );
  }
}

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
  const reply = await requestAPI<KernelEnvReply>('kernel-env', {
    method: 'POST',
    body: JSON.stringify({ kernel_id: kernelId, deterministic })
  });
  return reply.env;
}

/** Resolves true once the kernel of `ctx` is idle (or gone), false after `ms`. */
export function whenIdle(
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
export async function settleStoppedKernel(
  panel: NotebookPanel,
  cancelled: boolean
): Promise<void> {
  const unmute = muteMetadataWrites(panel);
  try {
    let idle = await whenIdle(panel.sessionContext, SETTLE_MS);
    if (!idle && cancelled && !panel.isDisposed) {
      console.warn(
        'repro-jupyter: the interrupted replay did not stop; restarting the kernel'
      );
      await panel.sessionContext.restartKernel();
      return; // a fresh kernel: nothing of the replay is left to undo
    }
    if (!idle && !panel.isDisposed) {
      // A step that timed out (configure_replay on a slow kernel) may still finish and pin the
      // kernel to the recorded seed: wait for it as long as a flush may take, then unpin.
      idle = await whenIdle(panel.sessionContext, DEFAULT_TIMEOUTS.flush);
    }
    if (idle && !panel.isDisposed) {
      // The replay never reached flush_records: give the kernel back its user's seed and settings.
      const kernel = panel.sessionContext.session?.kernel;
      if (kernel) {
        await withTimeout(
          runnerRequest(kernel, { type: 'end_replay' }),
          SETTLE_MS,
          'end_replay'
        ).catch(error => console.warn('repro-jupyter: end_replay', error));
      }
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

/** `promise`, or a ReexecuteError naming `what` after `ms`. */
export function withTimeout<T>(
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

/**
 * A promise that rejects when the kernel dies, is restarted or replaced
 * behind our back, or the run is cancelled; `dispose` stops watching.
 */
export function kernelGuard(
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
