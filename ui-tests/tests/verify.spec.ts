/**
 * "Re-execute and compare": a reproducible notebook reproduces with no
 * highlight; a planted drift (an edited, saved but not re-run cell)
 * highlights exactly that cell with its cause, keeps the recorded outputs,
 * and "Accept new outputs" brings the new ones in.
 */
import { expect, test, type IJupyterLabPageFixture } from '@jupyterlab/galata';
import type { Locator, TestInfo } from '@playwright/test';
import { mkdirSync } from 'fs';
import * as path from 'path';
import { cellMetadata, cellTextOutputs, isDirty, setCellSource } from './helpers';
import {
  COMPARED,
  PLOT_SOURCES,
  EDITED_CELL,
  EDITED_SOURCE,
  openPanel,
  recordNotebook,
  SCREENSHOTS,
  SOURCES
} from './recorded';

// Re-execution restarts the kernel: galata's kernel mock breaks restarts.
test.use({ kernels: null });

async function reexecute(page: IJupyterLabPageFixture, onProgress?: () => Promise<void>) {
  const panel = await openPanel(page);
  await panel.locator('.jp-repro-reexecute').click();
  if (onProgress) {
    await onProgress();
  }
  const summary = panel.locator('.jp-repro-summary');
  await expect(summary).toBeVisible({ timeout: 150_000 });
  return { panel, summary };
}

async function shoot(locator: Locator, name: string, testInfo: TestInfo): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await locator.scrollIntoViewIfNeeded();
  await locator.screenshot({ path: testInfo.outputPath(name) });
  await locator.screenshot({ path: path.join(SCREENSHOTS, name) });
}

async function allOutputs(page: IJupyterLabPageFixture): Promise<string[]> {
  const texts: string[] = [];
  for (let i = 0; i < SOURCES.length; i++) {
    texts.push(await cellTextOutputs(page, i));
  }
  return texts;
}

test('re-execute and compare: a reproducible notebook reproduces', async ({ page }, testInfo) => {
  await recordNotebook(page);
  const before = await allOutputs(page);
  const recordedMeta = await cellMetadata(page, 2);

  const { panel, summary } = await reexecute(page, async () => {
    // While it runs: the phase or "Cell k of n", a progress bar and Cancel.
    const progress = page.locator('#repro-jupyter-panel .jp-repro-progress');
    await expect(progress).toBeVisible();
    await expect(progress.locator('.jp-repro-progress-text')).toHaveText(
      /Restarting|Preparing|Cell [1-4] of 4|Writing|Comparing/
    );
    await expect(progress.locator('.jp-repro-cancel')).toBeVisible();
  });
  await expect(summary.locator('.jp-repro-headline')).toHaveText(
    `All ${COMPARED} cells reproduced`
  );
  await expect(summary.locator('.jp-repro-count-drift .jp-repro-count-n')).toHaveText('0');
  await expect(page.locator('.jp-repro-drifted')).toHaveCount(0);
  await expect(page.locator('.jp-repro-drift-view')).toHaveCount(0);
  // Every code cell ran; all but the setup cell (configuration, not results) were compared.
  await expect(page.locator('.jp-repro-badge-reproduced')).toHaveCount(COMPARED);

  // The recorded outputs and metadata are back, and nothing is left to save.
  expect(await allOutputs(page)).toEqual(before);
  expect(await cellMetadata(page, 2)).toEqual(recordedMeta);
  expect(await isDirty(page)).toBe(false);

  await shoot(panel.locator('.jp-repro-section-verify'), 'verify-reproduced.png', testInfo);
});

test('re-execute and compare: a planted drift is highlighted, explained and acceptable', async ({
  page
}, testInfo) => {
  await recordNotebook(page);
  const before = await allOutputs(page);
  expect(before[EDITED_CELL]).toMatch(/noisy mean/);

  // Plant the drift: edit a constant, save, do not run.
  await setCellSource(page, EDITED_CELL, EDITED_SOURCE);
  await page.notebook.save();
  await openPanel(page);
  await expect(page.locator('.jp-repro-badge-stale')).toHaveCount(1);

  const { panel, summary } = await reexecute(page);
  await expect(summary.locator('.jp-repro-headline')).toContainText('Drift in 1 of');

  // Exactly the edited cell is highlighted; its cause is the code change.
  const drifted = page.locator('.jp-repro-drifted');
  await expect(drifted).toHaveCount(1);
  const editedCell = page.locator('.jp-Notebook .jp-Cell').nth(EDITED_CELL);
  await expect(editedCell).toHaveClass(/jp-repro-drifted/);
  await expect(editedCell.locator('.jp-repro-badge-drift')).toHaveCount(1);
  await expect(summary.locator('.jp-repro-first-drift')).toHaveText(`cell ${EDITED_CELL + 1}`);
  await expect(summary.locator('.jp-repro-cause-source_changed')).toContainText('code changed');

  const view = editedCell.locator('.jp-repro-drift-view');
  await expect(view).toBeVisible();
  await expect(view.locator('.jp-repro-cause-source_changed')).toBeVisible();
  await expect(view.locator('.jp-repro-side-old pre').first()).toContainText('noisy mean');
  await expect(view.locator('.jp-repro-side-new pre').first()).toContainText('noisy mean');

  // The recorded outputs survive the re-execution.
  expect(await allOutputs(page)).toEqual(before);

  await shoot(panel.locator('.jp-repro-section-verify'), 'verify-drift-panel.png', testInfo);
  await shoot(editedCell, 'drift-cell.png', testInfo);
  await page.screenshot({ path: path.join(SCREENSHOTS, 'drift-lab.png') });

  // Accept: the re-executed output replaces the recorded one; the highlight goes.
  const newText = (await view.locator('.jp-repro-side-new pre').first().textContent()) ?? '';
  await view.locator('.jp-repro-accept').click();
  await expect(page.locator('.jp-repro-drifted')).toHaveCount(0);
  await expect(page.locator('.jp-repro-drift-view')).toHaveCount(0);
  await expect.poll(() => cellTextOutputs(page, EDITED_CELL)).not.toEqual(before[EDITED_CELL]);
  const after = await cellTextOutputs(page, EDITED_CELL);
  expect(after.trim()).toEqual(newText.trim());
  // Other cells keep their recorded outputs.
  for (const i of [1, 3]) {
    expect(await cellTextOutputs(page, i)).toEqual(before[i]);
  }
  // The accepted record describes the edited source: the cell is no longer stale.
  await expect(editedCell.locator('.jp-repro-badge-recorded')).toHaveCount(1, { timeout: 15_000 });
});

test('re-execute and compare: a drifted figure shows both images and the difference', async ({
  page
}, testInfo) => {
  await recordNotebook(page, 'plot.ipynb', PLOT_SOURCES);
  await setCellSource(page, 1, PLOT_SOURCES[1].replace('color="C0"', 'color="C3"'));
  await page.notebook.save();

  const { summary } = await reexecute(page);
  await expect(summary.locator('.jp-repro-headline')).toContainText('Drift in 1 of');
  const plotCell = page.locator('.jp-Notebook .jp-Cell').nth(1);
  await expect(plotCell).toHaveClass(/jp-repro-drifted/);
  const images = plotCell.locator('.jp-repro-drift-view .jp-repro-images img');
  await expect(images).toHaveCount(3); // recorded, new, difference heatmap
  await expect(plotCell.locator('.jp-repro-drift-view .jp-repro-ssim')).toContainText('SSIM');
  await shoot(plotCell, 'drift-image.png', testInfo);
});
