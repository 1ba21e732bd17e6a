/**
 * The lineage view answers "where did this variable come from, what does this cell feed?":
 * variables carry versions (X written by one cell, rewritten by another), loop temporaries are
 * hidden until asked for, selecting a node highlights its upstream and downstream and says so
 * in words, cells are numbered as JupyterLab numbers them (1-based, among all cells), tooltips
 * are sentences, and the drawing fits the panel's width (issue 14, items 3 and 10).
 */
import { expect, test } from '@jupyterlab/galata';
import { mkdirSync } from 'fs';
import * as path from 'path';
import { openPanel, recordNotebook } from './recorded';

/** Committed with the docs (the README shows them). */
const DOCS = path.join(__dirname, '..', '..', 'docs', 'screenshots');

test.use({ kernels: null });

const SOURCES = [
  '%load_ext repro_jupyter\n%repro on --seed 3',
  'import numpy as np\nX = np.arange(4)\ntotal = 0\nfor i in range(3):\n    total += i',
  'X = X * 2',
  'print(total + int(X.sum()))'
];

test('lineage: versions, temporaries hidden, upstream and downstream in words', async ({
  page
}) => {
  await recordNotebook(page, 'lineage.ipynb', SOURCES);
  const panel = await openPanel(page);
  const view = panel.locator('.jp-repro-lineage-view');
  const svg = view.locator('.jp-repro-lineage-svg');
  await expect(svg).toBeVisible({ timeout: 60_000 });

  // Cells are numbered as JupyterLab's status bar numbers them.
  await expect(svg.locator('.jp-repro-lineage-cell[data-cell-index="1"]')).toContainText('cell 2:');
  await expect(svg.locator('.jp-repro-lineage-cell[data-cell-index="3"]')).toContainText('cell 4:');

  // Versions: X written by cell 2, rewritten by cell 3.
  const variable = (label: string) =>
    view.locator(`.jp-repro-lineage-variable[data-label="${label}"]`);
  await expect(variable('X v1')).toHaveCount(1);
  await expect(variable('X v2')).toHaveCount(1);
  const x2 = variable('X v2');
  const tip = await x2.locator(':scope > title').textContent();
  expect(tip).toContain('X, version 2 of 2');
  expect(tip).toContain('written by cell 3');
  expect(tip).toContain('read by cell 4');
  const readEdge = svg.locator('.jp-repro-lineage-edge-reads title').first();
  expect(await readEdge.textContent()).toMatch(/^cell \d reads \S+( v\d)? \(written by cell \d\)$/);

  // The loop variable is hidden until asked for.
  await expect(variable('i')).toHaveCount(0);
  const toggle = view.locator('.jp-repro-lineage-controls');
  await expect(toggle).toContainText('show temporaries (1 loop variable hidden)');
  await toggle.locator('input').check();
  await expect(variable('i')).toHaveCount(1);
  await toggle.locator('input').uncheck();
  await expect(variable('i')).toHaveCount(0);

  // Selecting X v1: where it came from and what it feeds, highlighted and said in words.
  const x1 = variable('X v1');
  await x1.click();
  await expect(x1).toHaveClass(/jp-repro-lineage-selected/);
  const caption = view.locator('.jp-repro-lineage-caption');
  await expect(caption).toContainText('X v1: comes from cell 2; feeds cell 3, cell 4');
  await expect(
    view.locator('.jp-repro-lineage-cell[data-cell-index="1"]')
  ).toHaveClass(/jp-repro-lineage-upstream/);
  await expect(
    view.locator('.jp-repro-lineage-cell[data-cell-index="3"]')
  ).toHaveClass(/jp-repro-lineage-downstream/);
  // `total` is neither upstream nor downstream of X v1: it dims.
  const total = variable('total');
  await expect(total).not.toHaveClass(/jp-repro-lineage-(upstream|downstream|selected)/);
  await expect(view.locator('svg')).toHaveClass(/jp-repro-lineage-selecting/);

  // The drawing fits the panel: no horizontal scrollbar, no scrolling box of its own.
  const fits = await view.evaluate(el => {
    const svgEl = el.querySelector('svg') as SVGSVGElement;
    const box = el.closest('.jp-repro-lineage') as HTMLElement;
    return {
      svg: svgEl.getBoundingClientRect().width,
      room: el.getBoundingClientRect().width,
      ownScroll: getComputedStyle(box).overflowY
    };
  });
  expect(fits.svg).toBeLessThanOrEqual(fits.room + 1);
  expect(fits.ownScroll).toBe('visible');

  mkdirSync(DOCS, { recursive: true });
  await view.screenshot({ path: path.join(DOCS, 'lineage-light.png') });
  await page.theme.setDarkTheme();
  await expect(view).toBeVisible();
  await view.screenshot({ path: path.join(DOCS, 'lineage-dark.png') });
  await page.theme.setLightTheme();
});
