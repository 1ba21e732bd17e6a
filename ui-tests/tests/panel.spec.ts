/**
 * The Reproducibility side panel follows the active notebook: provenance of a
 * recorded notebook (master seed 3), its lineage drawn as SVG, clicking a cell
 * node activates that cell, and badges mark the recorded cells.
 */
import { expect, test } from '@jupyterlab/galata';
import { mkdirSync } from 'fs';
import * as path from 'path';
import { activeCellIndex } from './helpers';
import { openPanel, recordNotebook, SCREENSHOTS } from './recorded';

test.use({ kernels: null }); // a real kernel: the panel asks it for its environment over the comm

test('panel: provenance, environment, lineage and badges of a recorded notebook', async ({
  page
}, testInfo) => {
  // One request per refresh (POST panel), never the three per-section POSTs of the whole notebook.
  const routes: string[] = [];
  page.on('request', request => {
    const match = /\/repro-jupyter\/([a-z-]+)/.exec(request.url());
    if (match && request.method() === 'POST') {
      routes.push(match[1]);
    }
  });
  await recordNotebook(page);
  const panel = await openPanel(page);

  // Provenance: master seed 3, deterministic off, the environment summary.
  const provenance = panel.locator('.jp-repro-section-provenance');
  const seedRow = provenance.locator('.jp-repro-row', {
    hasText: 'Master seed'
  });
  await expect(seedRow.locator('.jp-repro-value')).toHaveText('3');
  await expect(
    provenance.locator('.jp-repro-row', { hasText: 'Deterministic' })
  ).toContainText('off');
  await expect(
    provenance.locator('.jp-repro-row', { hasText: 'python' })
  ).toBeVisible();
  await expect(provenance).toContainText('3 of 4 code cells recorded');

  // What changed: the same kernel reports the same environment.
  await expect(panel.locator('.jp-repro-section-changes')).toContainText(
    'Same environment as recorded.'
  );

  // Lineage: cell nodes in notebook order, variable nodes, edges.
  const svg = panel.locator('.jp-repro-lineage-svg');
  await expect(svg).toBeVisible();
  await expect(svg.locator('.jp-repro-lineage-cell').first()).toBeVisible();
  expect(
    await svg.locator('.jp-repro-lineage-cell').count()
  ).toBeGreaterThanOrEqual(3);
  await expect(
    svg.locator('.jp-repro-lineage-variable', { hasText: 'weights' })
  ).toBeVisible();
  expect(
    await svg.locator('.jp-repro-lineage-edge-writes').count()
  ).toBeGreaterThanOrEqual(1);
  expect(
    await svg.locator('.jp-repro-lineage-edge-reads').count()
  ).toBeGreaterThanOrEqual(1);

  // Badges: the three recorded cells.
  await expect(page.locator('.jp-repro-badge-recorded')).toHaveCount(3);
  expect(routes).toContain('panel');
  expect(
    routes.filter(r => ['provenance', 'lineage', 'envdiff'].includes(r))
  ).toEqual([]);

  mkdirSync(SCREENSHOTS, { recursive: true });
  await panel.screenshot({ path: testInfo.outputPath('panel.png') });
  await panel.screenshot({ path: path.join(SCREENSHOTS, 'panel.png') });
  await page.screenshot({ path: path.join(SCREENSHOTS, 'panel-lab.png') });

  // Clicking a cell node activates that cell.
  await page.notebook.selectCells(0);
  expect(await activeCellIndex(page)).toBe(0);
  await svg.locator('.jp-repro-lineage-cell[data-cell-index="3"]').click();
  await expect.poll(() => activeCellIndex(page)).toBe(3);
  await svg.locator('.jp-repro-lineage-cell[data-cell-index="1"]').click();
  await expect.poll(() => activeCellIndex(page)).toBe(1);
});

test('panel: a missing server extension is reported, not failed on silently', async ({
  page
}) => {
  await page.route(/\/repro-jupyter\/info(\?|$)/, route =>
    route.fulfill({
      status: 404,
      contentType: 'application/json',
      body: '{"message": "Not Found"}'
    })
  );
  await page.reload();
  const panel = await openPanel(page);
  await expect(panel.locator('.jp-repro-handshake')).toContainText(
    'Server extension missing or mismatched: Not Found'
  );
});
