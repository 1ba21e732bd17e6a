/**
 * The Verify summary follows Accept/Dismiss (issue 14, item 5): once a drift
 * is accepted or dismissed the panel stops counting it as open, and when all
 * are resolved it says so instead of "Drift in N of M … Accept all".
 * "Accept all" replaces every recorded output, so it asks first.
 */
import { expect, test } from '@jupyterlab/galata';
import { cellTextOutputs, setCellSource } from './helpers';
import { COMPARED, EDITED_CELL, EDITED_SOURCE, openPanel, recordNotebook, SOURCES } from './recorded';

test.use({ kernels: null }); // re-execution restarts a real kernel

const OTHER_CELL = 3;
const OTHER_SOURCE = SOURCES[OTHER_CELL].replace('round(total, 4)', 'round(total * 2, 4)');

test('the summary follows accept and dismiss; Accept all asks first', async ({ page }) => {
  await recordNotebook(page);
  const recorded = await cellTextOutputs(page, EDITED_CELL);
  const otherRecorded = await cellTextOutputs(page, OTHER_CELL);
  // Two independent drifts: cells 2 and 3 print something else.
  await setCellSource(page, EDITED_CELL, EDITED_SOURCE);
  await setCellSource(page, OTHER_CELL, OTHER_SOURCE);
  await page.notebook.save();

  const panel = await openPanel(page);
  await panel.locator('.jp-repro-reexecute').click();
  const summary = panel.locator('.jp-repro-summary');
  await expect(summary).toBeVisible({ timeout: 120_000 });
  const headline = summary.locator('.jp-repro-headline');
  await expect(headline).toHaveText(`Drift in 2 of ${COMPARED} cells`);
  await expect(page.locator('.jp-repro-drifted')).toHaveCount(2);

  // Dismiss one drift in its cell: the panel counts one open drift.
  const other = page.locator('.jp-Notebook .jp-Cell').nth(OTHER_CELL);
  await other.locator('.jp-repro-drift-view .jp-repro-dismiss').click();
  await expect(headline).toHaveText(`Drift in 1 of ${COMPARED} cells`);
  await expect(summary.locator('.jp-repro-resolution')).toHaveText('1 dismissed');
  await expect(summary.locator('.jp-repro-first-drift')).toHaveText(`cell ${EDITED_CELL + 1}`);
  await expect(summary.locator('.jp-repro-count-drift .jp-repro-count-n')).toHaveText('1');

  // Accept all asks first; Cancel changes nothing.
  const acceptAll = summary.locator('.jp-repro-accept-all');
  await acceptAll.click();
  const dialog = page.locator('.jp-Dialog');
  await expect(dialog).toBeVisible();
  await expect(dialog).toContainText('Accept all new outputs?');
  await expect(dialog).toContainText('1 cell');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(dialog).toHaveCount(0);
  await expect(page.locator('.jp-repro-drifted')).toHaveCount(1);
  expect(await cellTextOutputs(page, EDITED_CELL)).toEqual(recorded);
  await expect(headline).toHaveText(`Drift in 1 of ${COMPARED} cells`);

  // Confirmed: the new outputs come in, and the summary says all is resolved.
  await acceptAll.click();
  await dialog.getByRole('button', { name: 'Accept all' }).click();
  await expect(dialog).toHaveCount(0);
  await expect(page.locator('.jp-repro-drifted')).toHaveCount(0);
  await expect.poll(() => cellTextOutputs(page, EDITED_CELL)).not.toEqual(recorded);
  await expect(headline).toHaveText('All drifts resolved');
  await expect(summary).toHaveClass(/jp-repro-summary-resolved/);
  await expect(summary.locator('.jp-repro-resolution')).toHaveText('1 accepted, 1 dismissed');
  await expect(summary.locator('.jp-repro-count-drift .jp-repro-count-n')).toHaveText('0');
  await expect(summary.locator('.jp-repro-accept-all')).toHaveCount(0);
  await expect(summary.locator('.jp-repro-first-drift')).toHaveCount(0);
  // The dismissed cell keeps its recorded outputs: Accept all took only the open drift.
  expect(await cellTextOutputs(page, OTHER_CELL)).toEqual(otherRecorded);
});
