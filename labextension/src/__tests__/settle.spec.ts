/**
 * After a replay that stopped early, the kernel gets its user's seed and
 * settings back (`end_replay`) once it is idle, also when the step that timed
 * out (a slow `configure_replay`) finishes only later; a cancelled replay that
 * does not stop is restarted instead.
 */
import { settleStoppedKernel } from '../replaykernel';

type Listener = (sender: unknown, status: string) => void;

/** A panel whose kernel is busy until `becomeIdle()`, recording the runner requests it gets. */
function busyPanel() {
  const listeners: Listener[] = [];
  const requests: unknown[] = [];
  let restarted = 0;
  const kernel = {
    status: 'busy',
    isDisposed: false,
    createComm() {
      const comm: Record<string, any> = { isDisposed: false };
      comm.dispose = () => (comm.isDisposed = true);
      comm.open = (data: any) => {
        requests.push(data);
        setTimeout(() => {
          comm.onMsg({
            content: { data: { type: `${data.type}_reply`, ok: true } }
          });
        }, 0);
        return { done: Promise.resolve() };
      };
      return comm;
    }
  };
  const sessionContext = {
    session: { kernel },
    statusChanged: {
      connect: (l: Listener) => listeners.push(l),
      disconnect: (l: Listener) => listeners.splice(listeners.indexOf(l), 1)
    },
    restartKernel: async () => {
      restarted += 1;
    }
  };
  const panel = { isDisposed: false, sessionContext } as any;
  return {
    panel,
    requests,
    restarts: () => restarted,
    becomeIdle() {
      kernel.status = 'idle';
      for (const l of [...listeners]) {
        l(null, 'idle');
      }
    }
  };
}

describe('settleStoppedKernel', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('unpins a kernel that becomes idle only after the first 5 s (a step that timed out)', async () => {
    const k = busyPanel();
    const settled = settleStoppedKernel(k.panel, false);
    await jest.advanceTimersByTimeAsync(6_000); // past SETTLE_MS: still busy
    expect(k.requests).toEqual([]);
    k.becomeIdle();
    await jest.advanceTimersByTimeAsync(10);
    await settled;
    expect(k.requests).toEqual([{ type: 'end_replay' }]);
    expect(k.restarts()).toBe(0);
  });

  it('restarts a cancelled replay that does not stop, and sends nothing', async () => {
    const k = busyPanel();
    const settled = settleStoppedKernel(k.panel, true);
    await jest.advanceTimersByTimeAsync(6_000);
    await settled;
    expect(k.restarts()).toBe(1);
    expect(k.requests).toEqual([]);
  });
});
