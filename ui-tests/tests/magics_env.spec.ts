/**
 * Plain magics leave the notebook's environment record alone (issue 14, item 6).
 *
 * After a kernel restart, running the setup cell (`%load_ext` + `%repro on`)
 * and a cell that only sets the seed must not replace the notebook's
 * environment pointer with the bare kernel's (the panel said "torch not
 * imported, packages none" and the next re-execution listed false
 * differences). Configuration cells are not recorded; the seed cell says what
 * it did in one line.
 */
import { expect, test, type IJupyterLabPageFixture } from '@jupyterlab/galata';
import { cellMetadata, cellTextOutputs, notebookMetadata } from './helpers';
import { openPanel, recordNotebook, SOURCES } from './recorded';

test.use({ kernels: null }); // a real kernel restart

async function appendCodeCell(page: IJupyterLabPageFixture, source: string): Promise<void> {
  await page.evaluate(src => {
    const shared = (window as any).jupyterapp.shell.currentWidget.model.sharedModel;
    shared.insertCell(shared.cells.length, { cell_type: 'code', source: src, metadata: {} });
  }, source);
}

async function restartKernel(page: IJupyterLabPageFixture): Promise<void> {
  await page.evaluate(() =>
    (window as any).jupyterapp.shell.currentWidget.sessionContext.restartKernel()
  );
  await page.waitForFunction(
    () =>
      (window as any).jupyterapp.shell.currentWidget.sessionContext.session?.kernel?.status ===
      'idle',
    undefined,
    { timeout: 60_000 }
  );
}

test('configuring magics after a restart keep the recorded environment', async ({ page }) => {
  await recordNotebook(page);
  const recorded = (await notebookMetadata(page)) as Record<string, unknown>;
  expect(recorded.environment).toMatch(/^sha256:/);
  const panel = await openPanel(page);
  const packages = panel.locator('.jp-repro-section-provenance .jp-repro-row', {
    hasText: 'packages'
  });
  await expect(packages).toContainText('numpy');

  await restartKernel(page);
  // The setup cell again (recording on), then a cell that only sets the seed.
  expect(await page.notebook.runCell(0, true)).toBe(true);
  await appendCodeCell(page, '%repro seed 123');
  const seedCell = SOURCES.length;
  expect(await page.notebook.runCell(seedCell, true)).toBe(true);

  await expect
    .poll(() => notebookMetadata(page))
    .toEqual(expect.objectContaining({ master_seed: 123 }));
  const after = (await notebookMetadata(page)) as Record<string, unknown>;
  expect(after.environment).toBe(recorded.environment);
  // Configuration cells are not recorded.
  expect(await cellMetadata(page, seedCell)).toBeNull();
  expect(await cellTextOutputs(page, seedCell)).toBe(
    'master seed 123: the cells run from now on are seeded from it\n'
  );
  await page.notebook.save();
  await expect(packages).toContainText('numpy');
  await expect(packages).not.toContainText('none');
});
