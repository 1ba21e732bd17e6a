/**
 * Small page helpers shared by the specs: read notebook state from the live
 * JupyterLab models (not the DOM), so assertions see what the frontend wrote.
 */
import type { IJupyterLabPageFixture } from '@jupyterlab/galata';

export const METADATA_KEY = 'repro_jupyter';

/** `cells[index].metadata.repro_jupyter` of the current notebook, or null. */
export function cellMetadata(page: IJupyterLabPageFixture, index: number): Promise<unknown> {
  return page.evaluate(
    ([i, key]) => {
      const panel = (window as any).jupyterapp.shell.currentWidget;
      return panel.content.widgets[i].model.getMetadata(key) ?? null;
    },
    [index, METADATA_KEY] as const
  );
}

/** `metadata.repro_jupyter` of the current notebook, or null. */
export function notebookMetadata(page: IJupyterLabPageFixture): Promise<unknown> {
  return page.evaluate(key => {
    const panel = (window as any).jupyterapp.shell.currentWidget;
    return panel.model.getMetadata(key) ?? null;
  }, METADATA_KEY);
}

/** Server-relative path of the current notebook (galata puts it in a per-test folder). */
export function notebookPath(page: IJupyterLabPageFixture): Promise<string> {
  return page.evaluate(() => (window as any).jupyterapp.shell.currentWidget.context.path);
}

/** Replace all cells of the current notebook with code cells holding `sources`. */
export async function setCodeCells(page: IJupyterLabPageFixture, sources: string[]): Promise<void> {
  await page.evaluate(cells => {
    const shared = (window as any).jupyterapp.shell.currentWidget.model.sharedModel;
    shared.transact(() => {
      shared.deleteCellRange(0, shared.cells.length);
      shared.insertCells(
        0,
        cells.map(source => ({ cell_type: 'code', source, metadata: {} }))
      );
    });
  }, sources);
}

/** Replace the source of one cell of the current notebook without running it. */
export async function setCellSource(
  page: IJupyterLabPageFixture,
  index: number,
  source: string
): Promise<void> {
  await page.evaluate(
    ([i, src]) => {
      const panel = (window as any).jupyterapp.shell.currentWidget;
      panel.content.widgets[i].model.sharedModel.setSource(src);
    },
    [index, source] as const
  );
}

/** Index of the active cell of the current notebook. */
export function activeCellIndex(page: IJupyterLabPageFixture): Promise<number> {
  return page.evaluate(
    () => (window as any).jupyterapp.shell.currentWidget.content.activeCellIndex
  );
}

/** Plain-text outputs of a cell, read from the model (not the DOM). */
export function cellTextOutputs(page: IJupyterLabPageFixture, index: number): Promise<string> {
  return page.evaluate(i => {
    const cell = (window as any).jupyterapp.shell.currentWidget.content.widgets[i];
    const outputs = cell.model.outputs.toJSON() as any[];
    return outputs
      .map(o =>
        o.output_type === 'stream'
          ? [].concat(o.text).join('')
          : [].concat(o.data?.['text/plain'] ?? []).join('')
      )
      .join('');
  }, index);
}

/** Whether the current notebook has unsaved changes. */
export function isDirty(page: IJupyterLabPageFixture): Promise<boolean> {
  return page.evaluate(() => (window as any).jupyterapp.shell.currentWidget.context.model.dirty);
}
