/**
 * The runner requests of a replay (runnercomm.ts) against a fake kernel that
 * behaves as ipykernel does: the reply arrives as one comm_msg, then the comm
 * closes; a kernel without the target closes the comm unanswered.
 */
import type { Kernel, KernelMessage } from '@jupyterlab/services';
import {
  parseRunnerReply,
  runnerRequest,
  RunnerRequestError
} from '../runnercomm';

type Answer = (data: unknown) => unknown[];

/** A kernel whose runner comm answers each opened request with `answer(data)` (then closes). */
function fakeKernel(answer: Answer): {
  kernel: Kernel.IKernelConnection;
  opened: { target: string; data: unknown }[];
} {
  const opened: { target: string; data: unknown }[] = [];
  const kernel = {
    createComm(target: string) {
      const comm: Record<string, unknown> = { isDisposed: false };
      comm.dispose = () => {
        comm.isDisposed = true;
      };
      comm.open = (data: unknown) => {
        opened.push({ target, data });
        setTimeout(() => {
          for (const reply of answer(data)) {
            (comm.onMsg as (m: KernelMessage.ICommMsgMsg) => void)({
              content: { comm_id: 'c', data: reply }
            } as unknown as KernelMessage.ICommMsgMsg);
          }
          (comm.onClose as (m: unknown) => void)({});
        }, 0);
        return { done: Promise.resolve() } as unknown as Kernel.IShellFuture;
      };
      return comm as unknown as Kernel.IComm;
    }
  } as unknown as Kernel.IKernelConnection;
  return { kernel, opened };
}

describe('runnerRequest', () => {
  it('sends the request as the comm_open data on the runner target', async () => {
    const { kernel, opened } = fakeKernel(() => [
      { type: 'configure_replay_reply', ok: true }
    ]);
    const reply = await runnerRequest(kernel, {
      type: 'configure_replay',
      seed: 7,
      deterministic: false
    });
    expect(reply).toEqual({ type: 'configure_replay_reply', ok: true });
    expect(opened).toEqual([
      {
        target: 'repro_jupyter.runner',
        data: { type: 'configure_replay', seed: 7, deterministic: false }
      }
    ]);
  });

  it("rejects with the kernel's one line when it refuses", async () => {
    const { kernel } = fakeKernel(() => [
      {
        type: 'flush_records_reply',
        ok: false,
        error: 'flush_records failed: OSError: disk full'
      }
    ]);
    await expect(
      runnerRequest(kernel, { type: 'flush_records' })
    ).rejects.toThrow('flush_records failed: OSError: disk full');
  });

  it('rejects when the kernel has no runner target (closed unanswered)', async () => {
    const { kernel } = fakeKernel(() => []);
    const request = runnerRequest(kernel, { type: 'end_replay' });
    await expect(request).rejects.toBeInstanceOf(RunnerRequestError);
    await expect(request).rejects.toThrow(
      'end_replay: the kernel has no repro_jupyter.runner comm target'
    );
  });

  it('never takes the reply to another request for its own', async () => {
    const { kernel } = fakeKernel(() => [
      { type: 'end_replay_reply', ok: true }
    ]);
    await expect(
      runnerRequest(kernel, { type: 'flush_records' })
    ).rejects.toThrow('does not understand');
  });
});

describe('parseRunnerReply', () => {
  it('needs ok, and a string error on a failure', () => {
    expect(
      parseRunnerReply({ type: 'flush_records_reply' }, 'flush_records')
    ).toBeNull();
    expect(
      parseRunnerReply(
        { type: 'flush_records_reply', ok: false },
        'flush_records'
      )
    ).toBeNull();
    expect(parseRunnerReply('ok', 'flush_records')).toBeNull();
  });
});
