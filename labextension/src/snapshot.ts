/**
 * Notebook snapshots: take one before re-executing, and put outputs and
 * metadata back from one afterwards (the recorded outputs are never lost), or
 * from the re-executed one when the user accepts the new outputs. While a
 * replay owns the notebook, saves (autosave included) wait until the recorded
 * state is back, so the replay's outputs never reach the file.
 */
import type { Cell, ICellModel, ICodeCellModel } from '@jupyterlab/cells';
import type * as nbformat from '@jupyterlab/nbformat';
import type { DocumentRegistry } from '@jupyterlab/docregistry';
import type { NotebookPanel } from '@jupyterlab/notebook';
import type { PartialJSONObject, PartialJSONValue } from '@lumino/coreutils';
import { METADATA_KEY } from './comm';

/** A deep copy of the notebook as the editor holds it now (outputs and metadata included). */
export function takeSnapshot(panel: NotebookPanel): nbformat.INotebookContent {
  const json = panel.context.model.toJSON() as nbformat.INotebookContent;
  return JSON.parse(JSON.stringify(json)) as nbformat.INotebookContent;
}

/**
 * Hold every save of `context` until the returned release is called.
 *
 * The docmanager's autosave and the save command both go through
 * `context.save()`; during a replay the model holds the replay's outputs (a
 * cancelled cell's traceback, say) that must never be written. A save asked
 * for meanwhile runs after the release, once the recorded outputs are back,
 * and only if something is left to save (the user's own edits).
 */
export function holdSaves(context: DocumentRegistry.Context): () => void {
  const holder = context as { save: () => Promise<void> };
  const original = holder.save;
  let release: () => void = () => undefined;
  const released = new Promise<void>(resolve => (release = resolve));
  const held = async (): Promise<void> => {
    await released;
    if (!context.isDisposed && context.model.dirty) {
      await original.call(context);
    }
  };
  holder.save = held;
  return () => {
    if (holder.save === held) {
      // Back to the class's method (the instance had no save of its own).
      delete (holder as { save?: unknown }).save;
      if (holder.save !== original) {
        holder.save = original;
      }
    }
    release();
  };
}

/** The snapshot's cells by nbformat id. */
export function cellsById(
  snapshot: nbformat.INotebookContent
): Map<string, nbformat.ICell> {
  const map = new Map<string, nbformat.ICell>();
  for (const cell of snapshot.cells) {
    if (typeof cell.id === 'string') {
      map.set(cell.id, cell);
    }
  }
  return map;
}

function sameJSON(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Make `model`'s metadata equal to `metadata` (set what differs, delete what is extra). */
function setAllMetadata(model: ICellModel, metadata: PartialJSONObject): void {
  const now = model.metadata as PartialJSONObject;
  for (const key of Object.keys(now)) {
    if (!(key in metadata)) {
      model.deleteMetadata(key);
    }
  }
  for (const [key, value] of Object.entries(metadata)) {
    if (value !== undefined && !sameJSON(now[key], value)) {
      model.setMetadata(key, value as PartialJSONValue);
    }
  }
}

/**
 * Put the outputs, execution counts and metadata of `snapshot`'s code cells
 * back into the open notebook (matched by cell id). With `only`, just those
 * cell ids. Sources are left alone: they are the user's.
 */
export function restoreCells(
  panel: NotebookPanel,
  snapshot: nbformat.INotebookContent,
  only?: Set<string>
): void {
  const byId = cellsById(snapshot);
  const model = panel.context.model;
  for (const cellModel of model.cells) {
    if (cellModel.type !== 'code' || (only && !only.has(cellModel.id))) {
      continue;
    }
    const saved = byId.get(cellModel.id);
    if (!saved || saved.cell_type !== 'code') {
      continue;
    }
    const code = saved as nbformat.ICodeCell;
    const codeModel = cellModel as ICodeCellModel;
    // Through the output model, not `sharedModel.setOutputs`: that one inserts
    // before it deletes in one transaction, and the output model merges the
    // inserted stream output into the old one before deleting both.
    codeModel.outputs.fromJSON(code.outputs ?? []);
    codeModel.executionCount = code.execution_count ?? null;
    setAllMetadata(cellModel, (code.metadata ?? {}) as PartialJSONObject);
  }
}

/** Put the notebook-level `repro_jupyter` metadata of `snapshot` back. */
export function restoreNotebookMetadata(
  panel: NotebookPanel,
  snapshot: nbformat.INotebookContent
): void {
  const model = panel.context.model;
  const value = snapshot.metadata?.[METADATA_KEY];
  if (value === undefined) {
    model.deleteMetadata(METADATA_KEY);
  } else if (!sameJSON(model.getMetadata(METADATA_KEY), value)) {
    model.setMetadata(METADATA_KEY, value);
  }
}

/** The cell widget with nbformat id `id`, else the one at `index`, else null. */
export function findCell(
  panel: NotebookPanel,
  id: string | null | undefined,
  index?: number
): Cell | null {
  const widgets = panel.content.widgets;
  if (id) {
    const found = widgets.find(cell => cell.model.id === id);
    if (found) {
      return found;
    }
  }
  if (index !== undefined && index >= 0 && index < widgets.length) {
    return widgets[index];
  }
  return null;
}

/** Make `cell` the active cell of its notebook and scroll it into view. */
export function goToCell(panel: NotebookPanel, cell: Cell): void {
  const notebook = panel.content;
  const index = notebook.widgets.indexOf(cell);
  if (index < 0) {
    return;
  }
  notebook.activeCellIndex = index;
  notebook.deselectAll();
  void notebook
    .scrollToItem(index, 'smart')
    .catch(() => cell.node.scrollIntoView({ block: 'nearest' }));
}
