/**
 * The frontend end of the `repro_jupyter` comm.
 *
 * The kernel observes and decides what the metadata should be; while a
 * notebook is open, the frontend is the only writer of its metadata, so the
 * kernel sends the values over this comm and we write them verbatim into the
 * notebook model (no hashing or normalisation here).
 *
 * The contract is repro_jupyter/schema/messages.v1.json; the types below are
 * generated from it (messages.ts, `jlpm build:schema`), and the Python tests
 * validate what the kernel really sends against the same file.
 *
 * | direction         | `type`                | messages.ts type            |
 * |-------------------|-----------------------|-----------------------------|
 * | kernel → frontend | `hello` (comm_open)   | `HelloMessage`              |
 * | frontend → kernel | `notebook`            | `NotebookMessage`           |
 * | kernel → frontend | `cell_recorded`       | `CellRecordedMessage`       |
 * | kernel → frontend | `record_written`      | `RecordWrittenMessage`      |
 * | kernel → frontend | `notebook_metadata`   | `NotebookMetadataMessage`   |
 * | frontend → kernel | `environment_request` | `EnvironmentRequestMessage` |
 * | kernel → frontend | `environment`         | `EnvironmentMessage`        |
 *
 * The runner comm (`repro_jupyter.runner`: `RunnerRequest` → `RunnerReply`)
 * is described in the same file.
 */
import type { NotebookPanel } from '@jupyterlab/notebook';
import type { Kernel, KernelMessage } from '@jupyterlab/services';
import type { JSONObject } from '@lumino/coreutils';
import { COMM_TARGET } from './messages';
import type {
  CellRecordedMessage,
  EnvironmentMessage,
  EnvironmentRequestMessage,
  HelloMessage,
  KernelCommMessage,
  NotebookMessage,
  NotebookMetadataMessage,
  RecordWrittenMessage
} from './messages';
import { SCHEMA_VERSION } from './schema';
import type { NotebookMetadata } from './schema';

/** Comm target name (from the schema), also the metadata key in the notebook and its cells. */
export { COMM_TARGET };
export const METADATA_KEY = 'repro_jupyter';

/** The kernel's messages that the frontend writes into the notebook. */
export type KernelMessageData = Exclude<
  KernelCommMessage,
  EnvironmentMessage | RecordWrittenMessage
>;

/** An `environment` answer that names an environment (the kernel sends null without a store). */
export type EnvironmentAnswer = EnvironmentMessage & { digest: string };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Narrow a comm message to one we understand, or null.
 *
 * Only the envelope is checked (so that we never write a non-object into the
 * metadata); the content of the metadata is the kernel's business.
 */
export function parseKernelMessage(data: unknown): KernelMessageData | null {
  if (!isObject(data)) {
    return null;
  }
  if (
    data.type === 'cell_recorded' &&
    (typeof data.cell_id === 'string' || data.cell_id === null) &&
    isObject(data.cell_metadata) &&
    isObject(data.notebook_metadata)
  ) {
    return data as unknown as CellRecordedMessage;
  }
  if (data.type === 'notebook_metadata' && isObject(data.notebook_metadata)) {
    return data as unknown as NotebookMetadataMessage;
  }
  return null;
}

/** Narrow a comm message to a `record_written` announcement, or null. */
export function parseRecordWritten(data: unknown): RecordWrittenMessage | null {
  if (
    isObject(data) &&
    data.type === 'record_written' &&
    typeof data.record === 'string' &&
    typeof data.ok === 'boolean'
  ) {
    return data as unknown as RecordWrittenMessage;
  }
  return null;
}

/**
 * Narrow a comm message to an `environment` answer naming a digest, or null
 * (also for the kernel's `digest: null`, which the comm answers as "none").
 */
export function parseEnvironmentMessage(
  data: unknown
): EnvironmentAnswer | null {
  if (
    isObject(data) &&
    data.type === 'environment' &&
    typeof data.digest === 'string'
  ) {
    return data as unknown as EnvironmentAnswer;
  }
  return null;
}

/** The open comm of each notebook, and who waits for an `environment` answer. */
const comms = new WeakMap<NotebookPanel, Kernel.IComm>();
const environmentWaiters = new WeakMap<
  NotebookPanel,
  ((digest: string | null) => void)[]
>();

/**
 * The records each notebook's kernel announced (`cell_recorded`) and has not
 * yet said are on disk (`record_written`), and who waits for none to be left:
 * the panel asks the server about records only when they are written.
 */
const unwritten = new WeakMap<NotebookPanel, Set<string>>();
/** Whether the kernel of each notebook said (in `hello`) that it sends `record_written`. */
const announcesWrites = new WeakMap<NotebookPanel, boolean>();
const writtenListeners = new WeakMap<NotebookPanel, (() => void)[]>();

/** How many records of `panel`'s kernel are announced but not yet on disk. */
export function unwrittenRecords(panel: NotebookPanel): number {
  return unwritten.get(panel)?.size ?? 0;
}

/** Call `listener` each time the last announced record of `panel` is written (or the kernel goes). */
export function onRecordsWritten(
  panel: NotebookPanel,
  listener: () => void
): void {
  writtenListeners.set(panel, [
    ...(writtenListeners.get(panel) ?? []),
    listener
  ]);
}

/**
 * Stop waiting for `panel`'s announced records: its kernel restarted or died
 * (Lab disposes the comm without calling onClose), or the wait ran out.
 */
export function forgetUnwritten(panel: NotebookPanel): void {
  settleWritten(panel, null);
}

function settleWritten(panel: NotebookPanel, record: string | null): void {
  const pending = unwritten.get(panel);
  if (!pending) {
    return;
  }
  if (record === null) {
    pending.clear(); // the kernel went: what it did not write will not come
  } else {
    pending.delete(record);
  }
  if (pending.size === 0) {
    for (const listener of writtenListeners.get(panel) ?? []) {
      listener();
    }
  }
}

/** How many holders currently silence metadata writes of each notebook (see muteMetadataWrites). */
const mutes = new WeakMap<NotebookPanel, number>();

/**
 * Drop the kernel's metadata messages for `panel` until the returned unmute
 * is called. A stopped replay's kernel still reports the cell it was running
 * when it was interrupted: that record must not overwrite the restored,
 * recorded metadata.
 */
export function muteMetadataWrites(panel: NotebookPanel): () => void {
  mutes.set(panel, (mutes.get(panel) ?? 0) + 1);
  let done = false;
  return () => {
    if (!done) {
      done = true;
      mutes.set(panel, Math.max(0, (mutes.get(panel) ?? 1) - 1));
    }
  };
}

/** Whether the kernel of `panel` has opened the `repro_jupyter` comm (extension loaded). */
export function hasComm(panel: NotebookPanel): boolean {
  const comm = comms.get(panel);
  return !!comm && !comm.isDisposed;
}

/**
 * Ask the kernel of `panel` for its current environment digest.
 *
 * Resolves to null when no comm is open (the kernel has not loaded
 * repro_jupyter), when the kernel has no store to write its environment to
 * (it answers `digest: null`) or does not answer within `timeoutMs`.
 */
export function requestEnvironment(
  panel: NotebookPanel,
  timeoutMs = 15_000
): Promise<string | null> {
  const comm = comms.get(panel);
  if (!comm || comm.isDisposed) {
    return Promise.resolve(null);
  }
  return new Promise<string | null>(resolve => {
    const waiters = environmentWaiters.get(panel) ?? [];
    environmentWaiters.set(panel, waiters);
    let settled = false;
    const settle = (digest: string | null): void => {
      if (!settled) {
        settled = true;
        clearTimeout(timer);
        const i = waiters.indexOf(settle);
        if (i >= 0) {
          waiters.splice(i, 1);
        }
        resolve(digest);
      }
    };
    const timer = setTimeout(() => settle(null), timeoutMs);
    waiters.push(settle);
    try {
      comm.send({
        type: 'environment_request'
      } satisfies EnvironmentRequestMessage);
    } catch (error) {
      console.warn('repro-jupyter: environment_request not sent', error);
      settle(null);
    }
  });
}

/**
 * Whether `data` is the kernel's `environment` answer without a digest (it has
 * no store to write the environment to): the waiters get null at once instead
 * of waiting out their time limit.
 */
function isEnvironmentWithoutDigest(data: unknown): boolean {
  return isObject(data) && data.type === 'environment' && data.digest === null;
}

function answerEnvironment(panel: NotebookPanel, digest: string | null): void {
  for (const waiter of [...(environmentWaiters.get(panel) ?? [])]) {
    waiter(digest);
  }
}

/** Write the kernel's values into `panel`'s notebook model. */
export function applyKernelMessage(
  panel: NotebookPanel,
  message: KernelMessageData
): void {
  const model = panel.model;
  if (!model) {
    console.warn(
      `repro-jupyter: ${panel.context.path} has no model; dropped ${message.type}`
    );
    return;
  }
  if (message.type === 'cell_recorded') {
    const cell = Array.from(model.cells).find(c => c.id === message.cell_id);
    if (!cell) {
      console.warn(
        `repro-jupyter: no cell with id ${JSON.stringify(message.cell_id)} in ${panel.context.path}`
      );
      return;
    }
    cell.setMetadata(METADATA_KEY, message.cell_metadata);
  }
  model.setMetadata(METADATA_KEY, message.notebook_metadata);
}

/** The `notebook` message: what the notebook already holds, or null. */
export function notebookMessage(panel: NotebookPanel): NotebookMessage {
  const metadata = panel.model?.getMetadata(METADATA_KEY) as
    NotebookMetadata | undefined;
  return { type: 'notebook', metadata: metadata ?? null };
}

/**
 * Accept `repro_jupyter` comms that the kernel of `panel` opens.
 *
 * Registering again on the same kernel connection replaces the previous
 * callback, and the registration survives kernel restarts.
 */
export function registerCommTarget(
  panel: NotebookPanel,
  kernel: Kernel.IKernelConnection
): void {
  kernel.registerCommTarget(
    COMM_TARGET,
    (comm: Kernel.IComm, openMsg: KernelMessage.ICommOpenMsg) => {
      const hello = openMsg.content.data as Partial<HelloMessage>;
      if (hello.type !== 'hello' || hello.schema_version !== SCHEMA_VERSION) {
        console.warn(
          `repro-jupyter: kernel speaks schema_version ${String(hello.schema_version)}, ` +
            `this frontend ${SCHEMA_VERSION}; metadata is written as received`
        );
      }
      comms.set(panel, comm);
      announcesWrites.set(
        panel,
        Array.isArray(hello.sends) && hello.sends.includes('record_written')
      );
      comm.onClose = () => {
        if (comms.get(panel) === comm) {
          comms.delete(panel);
          settleWritten(panel, null);
        }
      };
      comm.onMsg = (msg: KernelMessage.ICommMsgMsg) => {
        const message = parseKernelMessage(msg.content.data);
        const environment = parseEnvironmentMessage(msg.content.data);
        const written = parseRecordWritten(msg.content.data);
        if (message && mutes.get(panel)) {
          console.info(
            `repro-jupyter: ${message.type} of a stopped replay dropped`
          );
        } else if (message) {
          applyKernelMessage(panel, message);
          if (message.type === 'cell_recorded' && announcesWrites.get(panel)) {
            const pending = unwritten.get(panel) ?? new Set<string>();
            unwritten.set(panel, pending.add(message.cell_metadata.record));
          }
        } else if (written) {
          settleWritten(panel, written.record);
        } else if (environment) {
          answerEnvironment(panel, environment.digest);
        } else if (isEnvironmentWithoutDigest(msg.content.data)) {
          answerEnvironment(panel, null);
        } else {
          console.warn('repro-jupyter: ignored comm message', msg.content.data);
        }
      };
      // Only answer once the notebook content is loaded: an empty model would
      // tell the kernel that the notebook has no metadata yet.
      void panel.context.ready.then(() => {
        if (!comm.isDisposed) {
          // The schema's interfaces carry no JSON index signature, hence the cast.
          comm.send(notebookMessage(panel) as unknown as JSONObject);
        }
      });
    }
  );
}

/** Keep the comm target registered on whatever kernel `panel` is using. */
export function watchNotebook(panel: NotebookPanel): void {
  const sessionContext = panel.sessionContext;
  const kernel = sessionContext.session?.kernel;
  if (kernel) {
    registerCommTarget(panel, kernel);
  }
  sessionContext.kernelChanged.connect((_, change) => {
    forgetUnwritten(panel);
    if (change.newValue) {
      registerCommTarget(panel, change.newValue);
    }
  });
  sessionContext.statusChanged.connect((_, status) => {
    if (['restarting', 'autorestarting', 'dead'].includes(status)) {
      forgetUnwritten(panel); // what the old kernel did not write will not come
    }
  });
}
