/**
 * The `environment` round trip through a registered comm: the kernel answers
 * `environment_request` with its digest, or with `digest: null` when it has no
 * store (messages.v1.json's EnvironmentMessage). A null answer settles the
 * request at once; it must not leave the panel waiting out its time limit.
 */
import { registerCommTarget, requestEnvironment } from '../comm';
import { SCHEMA_VERSION } from '../schema';

interface IFakeComm {
  isDisposed: boolean;
  sent: unknown[];
  send(data: unknown): void;
  onMsg: ((msg: unknown) => void) | null;
  onClose: (() => void) | null;
}

/** A panel whose kernel has opened the comm (the notebook never loads, so nothing else is sent). */
function openComm(): { panel: any; comm: IFakeComm } {
  let onOpen: ((comm: unknown, msg: unknown) => void) | null = null;
  const kernel = {
    registerCommTarget: (_name: string, cb: typeof onOpen) => {
      onOpen = cb;
    }
  };
  const comm: IFakeComm = {
    isDisposed: false,
    sent: [],
    send(data: unknown) {
      this.sent.push(data);
    },
    onMsg: null,
    onClose: null
  };
  const panel = {
    context: { ready: new Promise(() => undefined), path: 'nb.ipynb' },
    model: null
  };
  registerCommTarget(panel as any, kernel as any);
  onOpen!(comm, {
    content: {
      data: { type: 'hello', version: '0', schema_version: SCHEMA_VERSION }
    }
  });
  return { panel, comm };
}

/** The request's value if it has settled by now, else 'pending'. */
async function settled<T>(promise: Promise<T>): Promise<T | 'pending'> {
  return Promise.race([promise, Promise.resolve('pending' as const)]);
}

describe('requestEnvironment', () => {
  beforeEach(() => {
    jest.useFakeTimers();
  });
  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  it('sends environment_request and resolves to the digest the kernel names', async () => {
    const { panel, comm } = openComm();
    const answer = requestEnvironment(panel, 15_000);
    expect(comm.sent).toEqual([{ type: 'environment_request' }]);
    comm.onMsg!({
      content: {
        data: { type: 'environment', digest: 'sha256:' + '0'.repeat(64) }
      }
    });
    expect(await settled(answer)).toBe('sha256:' + '0'.repeat(64));
  });

  it('resolves to null at once when the kernel answers digest null (no store)', async () => {
    const warn = jest
      .spyOn(console, 'warn')
      .mockImplementation(() => undefined);
    const { panel, comm } = openComm();
    const answer = requestEnvironment(panel, 15_000);
    comm.onMsg!({ content: { data: { type: 'environment', digest: null } } });
    expect(await settled(answer)).toBeNull();
    expect(warn).not.toHaveBeenCalled();
  });

  it('still times out to null when the kernel does not answer', async () => {
    const { panel } = openComm();
    const answer = requestEnvironment(panel, 15_000);
    expect(await settled(answer)).toBe('pending');
    jest.advanceTimersByTime(15_000);
    expect(await settled(answer)).toBeNull();
  });
});
