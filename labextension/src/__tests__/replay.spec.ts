/**
 * The replay's bookkeeping: the snapshot it takes, how it finds cells again
 * (by id, else by position), how it puts the recorded outputs and metadata
 * back, how it holds saves while the notebook shows the replay's outputs, and
 * the set-up request it sends to the kernel (a seed that is not a whole
 * number is never forwarded).
 */
import type { Cell, ICellModel } from '@jupyterlab/cells';
import type * as nbformat from '@jupyterlab/nbformat';
import type { DocumentRegistry } from '@jupyterlab/docregistry';
import type { NotebookPanel } from '@jupyterlab/notebook';
import { configureReplayRequest } from '../replaykernel';
import type { NotebookMetadata } from '../schema';
import {
  cellsById,
  findCell,
  holdSaves,
  restoreCells,
  restoreNotebookMetadata,
  takeSnapshot
} from '../snapshot';

function notebook(
  cells: Partial<nbformat.ICell>[],
  metadata: object = {}
): nbformat.INotebookContent {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: metadata as nbformat.INotebookMetadata,
    cells: cells.map(
      c =>
        ({
          cell_type: 'code',
          source: '',
          metadata: {},
          ...c
        }) as nbformat.ICell
    )
  };
}

describe('configureReplayRequest', () => {
  it('passes the recorded master seed and deterministic mode', () => {
    const request = configureReplayRequest({
      master_seed: 42,
      deterministic: true
    } as NotebookMetadata);
    expect(request).toEqual({
      type: 'configure_replay',
      seed: 42,
      deterministic: true
    });
  });

  it('sends null and false when the notebook has no metadata', () => {
    expect(configureReplayRequest(undefined)).toEqual({
      type: 'configure_replay',
      seed: null,
      deterministic: false
    });
  });

  it('never forwards a seed that is not a whole number', () => {
    for (const seed of ["0); __import__('os').system('x'", -1, 1.5, NaN]) {
      const hostile = {
        master_seed: seed,
        deterministic: 'yes'
      } as unknown as NotebookMetadata;
      expect(configureReplayRequest(hostile)).toEqual({
        type: 'configure_replay',
        seed: null,
        deterministic: false
      });
    }
  });
});

describe('takeSnapshot', () => {
  it('is a deep copy: changing it leaves the editor model alone', () => {
    const held = notebook([{ id: 'a', outputs: [], execution_count: 1 }], {
      repro_jupyter: { x: 1 }
    });
    const panel = {
      context: { model: { toJSON: () => held } }
    } as unknown as NotebookPanel;
    const snapshot = takeSnapshot(panel);
    expect(snapshot).toEqual(held);
    (snapshot.cells[0] as nbformat.ICodeCell).execution_count = 9;
    (snapshot.metadata.repro_jupyter as { x: number }).x = 2;
    expect((held.cells[0] as nbformat.ICodeCell).execution_count).toBe(1);
    expect((held.metadata.repro_jupyter as { x: number }).x).toBe(1);
  });
});

describe('cellsById', () => {
  it('maps cells by their nbformat id and leaves out cells without one', () => {
    const nb = notebook([
      { id: 'a' },
      { id: undefined },
      { id: 7 as unknown as string },
      { id: 'b' }
    ]);
    const map = cellsById(nb);
    expect([...map.keys()]).toEqual(['a', 'b']);
    expect(map.get('b')).toBe(nb.cells[3]);
  });
});

describe('findCell', () => {
  const widgets = ['a', 'b', 'c'].map(
    id => ({ model: { id } }) as unknown as Cell
  );
  const panel = { content: { widgets } } as unknown as NotebookPanel;

  it('finds a cell by id first', () => {
    expect(findCell(panel, 'c', 0)).toBe(widgets[2]);
  });

  it('falls back to the position when the id is unknown or missing', () => {
    expect(findCell(panel, 'gone', 1)).toBe(widgets[1]);
    expect(findCell(panel, null, 0)).toBe(widgets[0]);
  });

  it('answers null rather than a wrong cell', () => {
    expect(findCell(panel, 'gone')).toBeNull();
    expect(findCell(panel, undefined, 3)).toBeNull();
    expect(findCell(panel, undefined, -1)).toBeNull();
  });
});

/** A cell model with the parts restoreCells touches. */
function fakeCellModel(
  id: string,
  type: 'code' | 'markdown',
  metadata: Record<string, unknown>
) {
  const model = {
    id,
    type,
    metadata: { ...metadata },
    executionCount: 5 as number | null,
    outputs: { fromJSON: jest.fn() },
    setMetadata: jest.fn((key: string, value: unknown) => {
      model.metadata[key] = value;
    }),
    deleteMetadata: jest.fn((key: string) => {
      delete model.metadata[key];
    })
  };
  return model;
}

function panelWith(
  models: unknown[],
  notebookMetadata: Record<string, unknown> = {}
) {
  const model = {
    cells: models,
    metadata: notebookMetadata,
    getMetadata: (key: string) => notebookMetadata[key],
    setMetadata: jest.fn((key: string, value: unknown) => {
      notebookMetadata[key] = value;
    }),
    deleteMetadata: jest.fn((key: string) => {
      delete notebookMetadata[key];
    })
  };
  return { panel: { context: { model } } as unknown as NotebookPanel, model };
}

describe('restoreCells', () => {
  const recorded = notebook([
    {
      id: 'a',
      outputs: [{ output_type: 'stream', name: 'stdout', text: '1\n' }],
      execution_count: 1,
      metadata: { repro_jupyter: { status: 'ok' }, tags: ['keep'] }
    },
    { id: 'b', outputs: [], execution_count: 2, metadata: {} },
    { id: 'm', cell_type: 'markdown', metadata: { note: 1 } }
  ]);

  it('puts outputs, execution counts and metadata back, matched by id', () => {
    const a = fakeCellModel('a', 'code', {
      repro_jupyter: { status: 'drift' },
      scratch: true
    });
    const { panel } = panelWith([a]);
    restoreCells(panel, recorded);
    expect(a.outputs.fromJSON).toHaveBeenCalledWith(
      (recorded.cells[0] as nbformat.ICodeCell).outputs
    );
    expect(a.executionCount).toBe(1);
    expect(a.metadata).toEqual({
      repro_jupyter: { status: 'ok' },
      tags: ['keep']
    });
    expect(a.deleteMetadata).toHaveBeenCalledWith('scratch');
  });

  it('leaves equal metadata alone (no needless writes)', () => {
    const a = fakeCellModel('a', 'code', {
      repro_jupyter: { status: 'ok' },
      tags: ['keep']
    });
    const { panel } = panelWith([a]);
    restoreCells(panel, recorded);
    expect(a.setMetadata).not.toHaveBeenCalled();
    expect(a.deleteMetadata).not.toHaveBeenCalled();
  });

  it('restores only the cells asked for, and never markdown or unknown cells', () => {
    const a = fakeCellModel('a', 'code', {});
    const b = fakeCellModel('b', 'code', { x: 1 });
    const m = fakeCellModel('m', 'markdown', {});
    const stranger = fakeCellModel('new', 'code', { x: 1 });
    const { panel } = panelWith([a, b, m, stranger]);
    restoreCells(panel, recorded, new Set(['b', 'm', 'new']));
    expect(a.outputs.fromJSON).not.toHaveBeenCalled();
    expect(b.outputs.fromJSON).toHaveBeenCalledWith([]);
    expect(b.metadata).toEqual({});
    expect(m.setMetadata).not.toHaveBeenCalled();
    expect(stranger.outputs.fromJSON).not.toHaveBeenCalled();
    expect(stranger.metadata).toEqual({ x: 1 });
  });

  it('does not restore a code cell from a snapshot cell of another type', () => {
    const m = fakeCellModel('m', 'code', {});
    const { panel } = panelWith([m as unknown as ICellModel]);
    restoreCells(panel, recorded);
    expect(m.outputs.fromJSON).not.toHaveBeenCalled();
  });
});

describe('restoreNotebookMetadata', () => {
  it('puts back a different value', () => {
    const { panel, model } = panelWith([], {
      repro_jupyter: { master_seed: 2 }
    });
    restoreNotebookMetadata(
      panel,
      notebook([], { repro_jupyter: { master_seed: 1 } })
    );
    expect(model.setMetadata).toHaveBeenCalledWith('repro_jupyter', {
      master_seed: 1
    });
  });

  it('removes the key when the snapshot had none', () => {
    const { panel, model } = panelWith([], {
      repro_jupyter: { master_seed: 2 }
    });
    restoreNotebookMetadata(panel, notebook([], {}));
    expect(model.deleteMetadata).toHaveBeenCalledWith('repro_jupyter');
  });

  it('does not write an equal value', () => {
    const { panel, model } = panelWith([], {
      repro_jupyter: { master_seed: 1 }
    });
    restoreNotebookMetadata(
      panel,
      notebook([], { repro_jupyter: { master_seed: 1 } })
    );
    expect(model.setMetadata).not.toHaveBeenCalled();
    expect(model.deleteMetadata).not.toHaveBeenCalled();
  });
});

describe('holdSaves', () => {
  class FakeContext {
    saved = 0;
    isDisposed = false;
    model = { dirty: true };
    async save(): Promise<void> {
      this.saved++;
    }
  }

  function hold(context: FakeContext): () => void {
    return holdSaves(context as unknown as DocumentRegistry.Context);
  }

  it('runs a save asked for meanwhile only after the release', async () => {
    const context = new FakeContext();
    const release = hold(context);
    const pending = context.save();
    await Promise.resolve();
    expect(context.saved).toBe(0);
    release();
    await pending;
    expect(context.saved).toBe(1);
  });

  it('drops a held save when nothing is left to save, or the document is gone', async () => {
    const clean = new FakeContext();
    const releaseClean = hold(clean);
    const pendingClean = clean.save();
    clean.model.dirty = false;
    releaseClean();
    await pendingClean;
    expect(clean.saved).toBe(0);

    const disposed = new FakeContext();
    const releaseDisposed = hold(disposed);
    const pendingDisposed = disposed.save();
    disposed.isDisposed = true;
    releaseDisposed();
    await pendingDisposed;
    expect(disposed.saved).toBe(0);
  });

  it("gives the context its own save back (the class's method)", async () => {
    const context = new FakeContext();
    const release = hold(context);
    expect(Object.prototype.hasOwnProperty.call(context, 'save')).toBe(true);
    release();
    expect(Object.prototype.hasOwnProperty.call(context, 'save')).toBe(false);
    await context.save();
    expect(context.saved).toBe(1);
  });

  it('puts back an instance save too, and a second release is harmless', async () => {
    const context = new FakeContext();
    let own = 0;
    const ownSave = async (): Promise<void> => {
      own++;
    };
    (context as { save: () => Promise<void> }).save = ownSave;
    const release = hold(context);
    release();
    release();
    expect(context.save).toBe(ownSave);
    await context.save();
    expect(own).toBe(1);
  });
});
