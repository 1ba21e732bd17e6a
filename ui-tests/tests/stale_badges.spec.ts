/**
 * Stale badges tell the truth (issue 14, item 2): staleness is recomputed
 * while the user types (debounced), not only on save, and a stale cell never
 * shows the ✓ of an earlier re-execution. The panel's "N stale" count and the
 * stale badges always agree.
 */
import { expect, test, type IJupyterLabPageFixture } from '@jupyterlab/galata';
import type { Locator } from '@playwright/test';
import { setCellSource } from './helpers';
import { openPanel, recordNotebook, SOURCES } from './recorded';

test.use({ kernels: null }); // re-execution restarts a real kernel

/** The badge of the cell at `index` (exactly one is expected). */
function badge(page: IJupyterLabPageFixture, index: number): Locator {
  return page.locator('.jp-Notebook .jp-Cell').nth(index).locator('.jp-repro-badge');
}

/** The panel's "N stale" (0 when the Cells row names none). */
async function panelStale(panel: Locator): Promise<number> {
  const text = await panel
    .locator('.jp-repro-section-provenance .jp-repro-row', { hasText: 'Cells' })
    .textContent();
  const match = /(\d+) stale/.exec(text ?? '');
  return match ? Number(match[1]) : 0;
}

/** Panel and badges agree on how many cells are stale, and that is `n`. */
async function expectStale(page: IJupyterLabPageFixture, panel: Locator, n: number) {
  await expect.poll(() => panelStale(panel), { timeout: 10_000 }).toBe(n);
  await expect(page.locator('.jp-repro-badge-stale')).toHaveCount(n);
}

test('stale badges follow source edits and win over the ✓ of a re-execution', async ({
  page
}) => {
  await recordNotebook(page);
  const panel = await openPanel(page);
  await expectStale(page, panel, 0);

  // An unsaved edit makes the cell stale within a moment (no save needed).
  const commented = SOURCES[3] + '\n# same output, other code';
  await setCellSource(page, 3, commented);
  await expect(badge(page, 3)).toHaveClass(/jp-repro-badge-stale/, { timeout: 10_000 });
  await expectStale(page, panel, 1);

  // Re-execute: cell 3 reproduces its outputs but its code is not the recorded
  // code, so it stays stale instead of showing ✓.
  await page.notebook.save();
  await panel.locator('.jp-repro-reexecute').click();
  await expect(panel.locator('.jp-repro-summary')).toBeVisible({ timeout: 120_000 });
  await expect(badge(page, 3)).toHaveClass(/jp-repro-badge-stale/);
  await expect(badge(page, 1)).toHaveClass(/jp-repro-badge-reproduced/);
  await expectStale(page, panel, 1);

  // Editing a ✓ cell without running it: the ✓ goes, the stale badge comes.
  await setCellSource(page, 1, SOURCES[1] + '\nweights = weights * 2');
  await expect(badge(page, 1)).not.toHaveClass(/jp-repro-badge-reproduced/, { timeout: 1_000 });
  await expect(badge(page, 1)).toHaveClass(/jp-repro-badge-stale/, { timeout: 10_000 });
  await expectStale(page, panel, 2);

  // Undoing the edit makes it fresh again; still one badge per cell.
  await setCellSource(page, 1, SOURCES[1]);
  await expect(badge(page, 1)).toHaveClass(/jp-repro-badge-recorded/, { timeout: 10_000 });
  await expectStale(page, panel, 1);
  await expect(badge(page, 0)).toHaveCount(0); // the setup cell configures: not recorded, no badge
  for (let i = 1; i < SOURCES.length; i++) {
    await expect(badge(page, i)).toHaveCount(1);
  }
});
