/**
 * "Re-execute and compare" never hangs and never loses the recorded outputs:
 * Cancel interrupts the kernel mid-cell, and a kernel that dies mid-cell is
 * reported in the panel.
 */
import { expect, test, type IJupyterLabPageFixture } from '@jupyterlab/galata';
import { cellTextOutputs, isDirty, setCellSource } from './helpers';
import { EDITED_CELL, openPanel, recordNotebook, SOURCES } from './recorded';

test.use({ kernels: null }); // re-execution restarts the kernel

async function allOutputs(page: IJupyterLabPageFixture): Promise<string[]> {
  const texts: string[] = [];
  for (let i = 0; i < SOURCES.length; i++) {
    texts.push(await cellTextOutputs(page, i));
  }
  return texts;
}

/** Record, then replace cell 2 by `source` (saved, not run) and start re-executing. */
async function startWith(page: IJupyterLabPageFixture, source: string) {
  await recordNotebook(page);
  const before = await allOutputs(page);
  await setCellSource(page, EDITED_CELL, source);
  await page.notebook.save();
  const panel = await openPanel(page);
  await panel.locator('.jp-repro-reexecute').click();
  return { panel, before };
}

test('cancel interrupts the re-execution and keeps the recorded outputs', async ({ page }) => {
  const { panel, before } = await startWith(page, 'import time\ntime.sleep(120)');
  const progress = panel.locator('.jp-repro-progress');
  await expect(progress.locator('.jp-repro-progress-text')).toHaveText(
    `Cell ${EDITED_CELL + 1} of ${SOURCES.length}`,
    {
      timeout: 60_000
    }
  );
  await progress.locator('.jp-repro-cancel').click();
  await expect(panel.locator('.jp-repro-section-verify')).toContainText(
    `Cancelled at cell ${EDITED_CELL + 1} of ${SOURCES.length}`,
    { timeout: 30_000 }
  );
  await expect(panel.locator('.jp-repro-progress')).toHaveCount(0);
  await expect(panel.locator('.jp-repro-reexecute')).toBeEnabled();
  expect(await allOutputs(page)).toEqual(before);
  expect(await isDirty(page)).toBe(false);
  await expect(page.locator('.jp-repro-drifted')).toHaveCount(0);
});

test('a kernel that dies mid-cell is reported, not waited on', async ({ page }) => {
  const { panel, before } = await startWith(page, 'import os\nos._exit(1)');
  const failure = panel.locator('.jp-repro-section-verify .jp-repro-note-error');
  // The server restarts a dead kernel at once: Lab sees "restarting" (or "dead").
  await expect(failure).toContainText(
    new RegExp(`the kernel died.* while cell ${EDITED_CELL + 1} ran`),
    {
      timeout: 90_000
    }
  );
  await expect(panel.locator('.jp-repro-reexecute')).toBeEnabled();
  expect(await allOutputs(page)).toEqual(before);
  await expect(page.locator('.jp-repro-drifted')).toHaveCount(0);
});
