/**
 * `record_written`: the kernel says when a record `cell_recorded` announced is
 * on disk. The frontend counts the records announced but not written, and
 * tells its listeners when none is left, so the panel asks the server about a
 * record only after it is written (a kernel that goes settles them all).
 */
import {
  forgetUnwritten,
  onRecordsWritten,
  parseRecordWritten,
  registerCommTarget,
  unwrittenRecords
} from '../comm';
import { SCHEMA_VERSION } from '../schema';

const A = 'sha256:' + 'a'.repeat(64);
const B = 'sha256:' + 'b'.repeat(64);

/** A panel with one code cell (id `c1`) whose kernel has opened the comm (saying it sends record_written). */
function openComm(sends: string[] = ['record_written']): {
  panel: any;
  comm: any;
} {
  let onOpen: ((comm: unknown, msg: unknown) => void) | null = null;
  const kernel = {
    registerCommTarget: (_name: string, cb: typeof onOpen) => {
      onOpen = cb;
    }
  };
  const comm: any = {
    isDisposed: false,
    send: () => undefined,
    onMsg: null,
    onClose: null
  };
  const cell = { id: 'c1', setMetadata: () => undefined };
  const panel = {
    context: { ready: new Promise(() => undefined), path: 'nb.ipynb' },
    model: { cells: [cell], setMetadata: () => undefined }
  };
  registerCommTarget(panel as any, kernel as any);
  onOpen!(comm, {
    content: {
      data: {
        type: 'hello',
        version: '0',
        schema_version: SCHEMA_VERSION,
        sends
      }
    }
  });
  return { panel, comm };
}

function recorded(record: string) {
  return {
    content: {
      data: {
        type: 'cell_recorded',
        cell_id: 'c1',
        cell_metadata: { record },
        notebook_metadata: { schema_version: SCHEMA_VERSION }
      }
    }
  };
}

function written(record: string, ok = true) {
  return {
    content: { data: { type: 'record_written', cell_id: 'c1', record, ok } }
  };
}

describe('record_written', () => {
  it('counts announced records until each is written, then tells the listeners once', () => {
    const { panel, comm } = openComm();
    const calls: number[] = [];
    onRecordsWritten(panel, () => calls.push(unwrittenRecords(panel)));
    comm.onMsg(recorded(A));
    comm.onMsg(recorded(B));
    expect(unwrittenRecords(panel)).toBe(2);
    comm.onMsg(written(A));
    expect(unwrittenRecords(panel)).toBe(1);
    expect(calls).toEqual([]);
    comm.onMsg(written(B, false)); // a failed write settles it too: nothing more will come
    expect(unwrittenRecords(panel)).toBe(0);
    expect(calls).toEqual([0]);
  });

  it('settles everything when the kernel closes the comm (it died or restarted)', () => {
    const { panel, comm } = openComm();
    let told = 0;
    onRecordsWritten(panel, () => (told += 1));
    comm.onMsg(recorded(A));
    comm.onClose();
    expect(unwrittenRecords(panel)).toBe(0);
    expect(told).toBe(1);
  });

  it('does not wait for a kernel that never said it announces writes (an older repro_jupyter)', () => {
    const { panel, comm } = openComm([]);
    comm.onMsg(recorded(A));
    expect(unwrittenRecords(panel)).toBe(0);
  });

  it('forgets what a restarted kernel never wrote', () => {
    const { panel, comm } = openComm();
    comm.onMsg(recorded(A));
    forgetUnwritten(panel);
    expect(unwrittenRecords(panel)).toBe(0);
    comm.onMsg(written(A)); // late: harmless
    expect(unwrittenRecords(panel)).toBe(0);
  });

  it('narrows only well-formed announcements', () => {
    expect(parseRecordWritten(written(A).content.data)).not.toBeNull();
    expect(
      parseRecordWritten({ type: 'record_written', record: A })
    ).toBeNull();
    expect(parseRecordWritten({ type: 'record_written', ok: true })).toBeNull();
    expect(parseRecordWritten('record_written')).toBeNull();
  });
});
