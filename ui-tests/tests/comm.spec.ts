/**
 * The frontend half of the `repro_jupyter` comm protocol, driven by a
 * hand-written kernel end (the `comm` package), so this spec pins the
 * contract independently of the `%%repro` magic:
 *   hello → notebook reply; cell_recorded / notebook_metadata → metadata;
 *   unknown cell → warning only; target re-registered after restart and
 *   after a kernel change.
 */
import { expect, test } from '@jupyterlab/galata';
import { cellMetadata, notebookMetadata, setCodeCells } from './helpers';

const DIGEST = 'sha256:' + '0'.repeat(64);

const OPEN_COMM = [
  'import json',
  'from comm import create_comm',
  'replies = []',
  "c = create_comm(target_name='repro_jupyter', data={'type': 'hello', 'version': '0.1.0', 'schema_version': 1})",
  "c.on_msg(lambda m: replies.append(m['content']['data']))"
].join('\n');

const RECORD_CELL = [
  "cid = get_ipython().kernel.get_parent()['metadata']['cellId']",
  `c.send({'type': 'cell_recorded', 'cell_id': cid, 'cell_metadata': {'seed': 3, 'record': '${DIGEST}'}, 'notebook_metadata': {'schema_version': 1, 'master_seed': 11}})`,
  "c.send({'type': 'cell_recorded', 'cell_id': 'no-such-cell', 'cell_metadata': {'seed': 4}, 'notebook_metadata': {'schema_version': 1, 'master_seed': 99}})"
].join('\n');

const PRINT_REPLIES = 'print(json.dumps(replies))';

const NOTEBOOK_ONLY =
  "c.send({'type': 'notebook_metadata', 'notebook_metadata': {'schema_version': 1, 'master_seed': 12}})";

// galata's kernels mock answers POST /api/kernels/<id>/restart with 201, which
// Lab rejects ("Invalid response: 201 Created"); sessions are still tracked
// and cleaned up, which also shuts their kernels down.
test.use({ kernels: null });

/** Execution count of a cell: 1 right after a fresh kernel ran it. */
function executionCount(page: any, index: number): Promise<number | null> {
  return page.evaluate(
    (i: number) =>
      (window as any).jupyterapp.shell.currentWidget.content.widgets[i].model.executionCount,
    index
  );
}

/**
 * The `notebook` messages the kernel end received. The panel may also send
 * `environment_request` (it asks whenever it refreshes a recorded notebook);
 * this hand-written kernel end does not answer those, so they are left out.
 */
async function replies(page: any, index: number): Promise<unknown> {
  await page.notebook.runCell(index, { inplace: true });
  const text = (await page.notebook.getCellTextOutput(index)) ?? [];
  const all = JSON.parse(text.join('').trim()) as { type: string }[];
  return all.filter(m => m.type !== 'environment_request');
}

test('comm protocol: kernel messages become notebook metadata', async ({ page }) => {
  const warnings: string[] = [];
  page.on('console', msg => {
    if (msg.type() === 'warning') {
      warnings.push(msg.text());
    }
  });

  await page.notebook.createNew('comm.ipynb');
  await setCodeCells(page, [OPEN_COMM, RECORD_CELL, PRINT_REPLIES, NOTEBOOK_ONLY]);

  await page.notebook.runCell(0, { inplace: true });
  await page.notebook.runCell(1, { inplace: true });
  await expect.poll(() => cellMetadata(page, 1)).toEqual({ seed: 3, record: DIGEST });
  // The message for an unknown cell changed nothing, not even the notebook metadata.
  expect(await notebookMetadata(page)).toEqual({ schema_version: 1, master_seed: 11 });
  expect(await cellMetadata(page, 0)).toBeNull();
  expect(warnings.some(w => w.includes('no cell with id "no-such-cell"'))).toBe(true);

  // The frontend answered the hello with the (then empty) notebook metadata.
  expect(await replies(page, 2)).toEqual([{ type: 'notebook', metadata: null }]);

  await page.notebook.runCell(3, { inplace: true });
  await expect.poll(() => notebookMetadata(page)).toEqual({ schema_version: 1, master_seed: 12 });

  // Kernel restart: same connection, the target must still answer.
  await page.evaluate(async () => {
    const ctx = (window as any).jupyterapp.shell.currentWidget.sessionContext;
    await ctx.session.kernel.restart();
  });
  await page.notebook.runCell(0, { inplace: true });
  expect(await executionCount(page, 0)).toBe(1);
  expect(await replies(page, 2)).toEqual([
    { type: 'notebook', metadata: { schema_version: 1, master_seed: 12 } }
  ]);

  // Kernel change: a new connection, registered through kernelChanged.
  await page.evaluate(async () => {
    const ctx = (window as any).jupyterapp.shell.currentWidget.sessionContext;
    await ctx.changeKernel({ name: 'python3' });
  });
  await page.notebook.runCell(0, { inplace: true });
  expect(await executionCount(page, 0)).toBe(1);
  expect(await replies(page, 2)).toEqual([
    { type: 'notebook', metadata: { schema_version: 1, master_seed: 12 } }
  ]);
});
