/**
 * After a re-execution the kernel is the user's again (issue 14, items 7 and 11).
 *
 * The replay pins the recorded master seed; once it is over, `%repro seed 123`
 * is obeyed (it was ignored with a raw `ReproWarning` naming `magics.py:188`),
 * and `%repro status` speaks words ("off", not Python's `False`) and no longer
 * says "(pinned)".
 */
import { expect, test, type IJupyterLabPageFixture } from '@jupyterlab/galata';
import type { Locator } from '@playwright/test';
import { cellTextOutputs, notebookMetadata } from './helpers';
import { openPanel, recordNotebook, SOURCES } from './recorded';

test.use({ kernels: null }); // re-execution restarts a real kernel

async function appendCodeCell(page: IJupyterLabPageFixture, source: string): Promise<void> {
  await page.evaluate(src => {
    const shared = (window as any).jupyterapp.shell.currentWidget.model.sharedModel;
    shared.insertCell(shared.cells.length, { cell_type: 'code', source: src, metadata: {} });
  }, source);
}

/** Re-execute and compare; accept the restart question if the extension asks one. */
async function reexecute(page: IJupyterLabPageFixture, panel: Locator): Promise<void> {
  await panel.locator('.jp-repro-reexecute').click();
  const dialog = page.locator('.jp-Dialog');
  const asked = await dialog
    .waitFor({ state: 'visible', timeout: 3_000 })
    .then(() => true)
    .catch(() => false);
  if (asked) {
    await dialog.locator('.jp-Dialog-button.jp-mod-accept').click();
  }
  await expect(panel.locator('.jp-repro-summary')).toBeVisible({ timeout: 150_000 });
}

test('after a re-execution %repro seed is obeyed and status reads in words', async ({ page }) => {
  await recordNotebook(page);
  const panel = await openPanel(page);
  await reexecute(page, panel);

  await appendCodeCell(page, '%repro seed 123\n%repro status');
  const cell = SOURCES.length;
  expect(await page.notebook.runCell(cell, true)).toBe(true);
  const out = await cellTextOutputs(page, cell);
  expect(out).not.toMatch(/Warning|\.py:\d+|pinned/);
  expect(out).toContain('master seed 123: the cells run from now on are seeded from it');
  expect(out).toContain('master seed: 123 (set in this notebook by %repro seed)');
  expect(out).toContain('deterministic: off');
  expect(out).not.toMatch(/\b(True|False|None)\b/);
  await expect
    .poll(() => notebookMetadata(page))
    .toEqual(expect.objectContaining({ master_seed: 123 }));
});
