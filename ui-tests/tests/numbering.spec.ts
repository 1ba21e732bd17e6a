/**
 * One numbering everywhere (issue 14, item 3): with a markdown cell first, the drifting code cell is
 * "cell 4" in the panel's first drift, its badge tooltip, its drift view and the lineage, the same
 * 1-based position among all cells that JupyterLab's status bar shows (and `jupyter repro verify`
 * prints); cause labels are words, without the machine name repeated beside them (item 11).
 */
import { expect, test } from '@jupyterlab/galata';
import { setCellSource } from './helpers';
import { EDITED_CELL, EDITED_SOURCE, openPanel, recordNotebook } from './recorded';

test.use({ kernels: null });

test('the drifting cell has one number everywhere, cause labels are words', async ({ page }) => {
  await recordNotebook(page, 'numbering.ipynb');
  // A markdown cell on top: code cell EDITED_CELL is now the (EDITED_CELL + 2)-th cell of the notebook.
  await page.evaluate(() => {
    const shared = (window as any).jupyterapp.shell.currentWidget.model.sharedModel;
    shared.insertCell(0, { cell_type: 'markdown', source: '# Numbering' });
  });
  const index = EDITED_CELL + 1;
  const number = `cell ${index + 1}`;
  await setCellSource(page, index, EDITED_SOURCE);
  await page.notebook.save();

  const panel = await openPanel(page);
  await expect(panel.locator(`.jp-repro-lineage-cell[data-cell-index="${index}"]`)).toContainText(
    `${number}:`
  );
  await panel.locator('.jp-repro-reexecute').click();
  const summary = panel.locator('.jp-repro-summary');
  await expect(summary).toBeVisible({ timeout: 150_000 });
  await expect(summary.locator('.jp-repro-first-drift')).toHaveText(number);

  const cell = page.locator('.jp-Notebook .jp-Cell').nth(index);
  await expect(cell).toHaveClass(/jp-repro-drifted/);
  const view = cell.locator('.jp-repro-drift-view');
  await expect(view).toBeVisible();
  // Causes in words; the machine name only in the tooltip.
  const cause = view.locator('.jp-repro-cause-source_changed');
  await expect(cause).toContainText('code changed');
  await expect(cause).not.toContainText('source_changed');
  await expect(page.locator('.jp-repro-cause-kind')).toHaveCount(0);
  expect(await cause.getAttribute('title')).toContain('source_changed');
  // No zero-based or code-cell-counting number anywhere in the summary.
  await expect(summary).not.toContainText(`cell ${index}:`);
  await expect(summary).not.toContainText(`cell ${EDITED_CELL + 1} `);
});
