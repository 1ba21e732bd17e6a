/**
 * Requests to the kernel's runner API (`repro_jupyter.kernel_runner`), as
 * Lab's "re-execute and compare" sends them: the fixed line
 * `%load_ext repro_jupyter.kernel_runner` once (it registers the comm target),
 * then each request is the data of a comm opened on `repro_jupyter.runner`;
 * the kernel answers with exactly one typed reply and closes the comm.
 * Arguments travel as JSON, never spliced into Python source.
 *
 * The messages are the contract in repro_jupyter/schema/messages.v1.json
 * (generated types in messages.ts).
 */
import type { Kernel, KernelMessage } from '@jupyterlab/services';
import type { JSONObject } from '@lumino/coreutils';
import type { RunnerReply, RunnerRequest } from './messages';
import { RUNNER_COMM_TARGET } from './messages';

/** What a runner sends before its first request: fixed, no data in it. */
export const LOAD_LINE = '%load_ext repro_jupyter.kernel_runner';

/** A runner request failed; the message is one line for the panel. */
export class RunnerRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunnerRequestError';
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Narrow the kernel's answer to the reply of `kind`, or null: only the
 * envelope is checked (`type`, `ok`, and `error` on a failure).
 */
export function parseRunnerReply(
  data: unknown,
  kind: RunnerRequest['type']
): RunnerReply | null {
  if (!isObject(data) || data.type !== `${kind}_reply`) {
    return null;
  }
  if (data.ok === true) {
    return data as unknown as RunnerReply;
  }
  if (data.ok === false && typeof data.error === 'string') {
    return data as unknown as RunnerReply;
  }
  return null;
}

/** Run the fixed load line silently; rejects when the kernel cannot load the module. */
export async function loadRunner(
  kernel: Kernel.IKernelConnection
): Promise<void> {
  const reply = await kernel.requestExecute({
    code: LOAD_LINE,
    silent: true,
    store_history: false,
    allow_stdin: false
  }).done;
  const content = reply.content;
  if (content.status === 'error') {
    throw new RunnerRequestError(
      `the kernel could not load repro_jupyter: ${content.ename}: ${content.evalue}`
    );
  }
}

/**
 * Send one request on a new `repro_jupyter.runner` comm and resolve to its
 * successful reply; a RunnerRequestError (one line) when the kernel refuses
 * it, has no runner target (it closes the comm unanswered) or says nothing
 * understandable. Time limits are the caller's (withTimeout).
 */
export function runnerRequest(
  kernel: Kernel.IKernelConnection,
  request: RunnerRequest
): Promise<RunnerReply> {
  return new Promise<RunnerReply>((resolve, reject) => {
    let settled = false;
    // eslint-disable-next-line jupyter/require-disposable-transfer -- disposed in settle(), at the answer
    const comm = kernel.createComm(RUNNER_COMM_TARGET);
    const settle = (outcome: RunnerReply | Error): void => {
      if (settled) {
        return;
      }
      settled = true;
      // The kernel closes its end after the one reply; ours goes with the answer.
      if (!comm.isDisposed) {
        comm.dispose();
      }
      if (outcome instanceof Error) {
        reject(outcome);
      } else {
        resolve(outcome);
      }
    };
    comm.onMsg = (msg: KernelMessage.ICommMsgMsg) => {
      const reply = parseRunnerReply(msg.content.data, request.type);
      if (!reply) {
        settle(
          new RunnerRequestError(
            `${request.type}: the kernel sent an answer this frontend does not understand`
          )
        );
      } else if (reply.ok) {
        settle(reply);
      } else {
        settle(new RunnerRequestError(reply.error));
      }
    };
    comm.onClose = () =>
      settle(
        new RunnerRequestError(
          `${request.type}: the kernel has no ${RUNNER_COMM_TARGET} comm target`
        )
      );
    try {
      // The generated interfaces carry no JSON index signature, hence the cast.
      comm.open(request as unknown as JSONObject).done.catch(error => {
        settle(new RunnerRequestError(`${request.type}: ${String(error)}`));
      });
    } catch (error) {
      settle(new RunnerRequestError(`${request.type}: ${String(error)}`));
    }
  });
}
