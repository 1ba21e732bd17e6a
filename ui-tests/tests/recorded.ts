/**
 * A small recorded notebook shared by the panel and verify specs: a setup cell
 * (`%repro on --seed 3`) and three numpy cells, one of which defines a
 * variable (`weights`) that the next two read.
 */
import { expect, type IJupyterLabPageFixture } from '@jupyterlab/galata';
import * as path from 'path';
import { cellMetadata, notebookMetadata, setCodeCells } from './helpers';

export const SCREENSHOTS = path.join(__dirname, '..', 'screenshots');

export const SOURCES = [
  '%load_ext repro_jupyter\n%repro on --seed 3',
  'import numpy as np\nweights = np.random.rand(4)\nprint("weights", np.round(weights, 4))',
  'noise = np.random.normal(size=4)\nprint("noisy mean", round(float((weights + noise).mean()) * 100, 2))',
  'total = float(weights.sum())\nprint("total", round(total, 4))'
];

/** Cells verify compares: all but the setup cell, which only configures (it is not recorded, and
 * verify skips it: settings, not results). */
export const COMPARED = SOURCES.length - 1;

/** The edit that plants a drift: a changed constant in cell 2's print. */
export const EDITED_CELL = 2;
export const EDITED_SOURCE = SOURCES[2].replace('* 100,', '* 1000,');

/** A notebook whose second cell draws a seeded random walk with matplotlib. */
export const PLOT_SOURCES = [
  SOURCES[0],
  [
    'import numpy as np',
    'import matplotlib.pyplot as plt',
    'walk = np.random.rand(30).cumsum()',
    'plt.figure(figsize=(3, 2), dpi=80)',
    'plt.plot(walk, color="C0")',
    'plt.show()'
  ].join('\n')
];

/** Create, run (recording every cell after the first) and save the notebook. */
export async function recordNotebook(
  page: IJupyterLabPageFixture,
  name = 'recorded.ipynb',
  sources: string[] = SOURCES
): Promise<void> {
  await page.notebook.createNew(name);
  await setCodeCells(page, sources);
  await page.notebook.run();
  for (let i = 1; i < sources.length; i++) {
    await expect
      .poll(() => cellMetadata(page, i), { timeout: 60_000, message: `cell ${i} recorded` })
      .toEqual(expect.objectContaining({ record: expect.stringMatching(/^sha256:/) }));
  }
  expect(await notebookMetadata(page)).toEqual(expect.objectContaining({ master_seed: 3 }));
  await page.notebook.save();
}

/** Open the Reproducibility side panel and return its locator. */
export async function openPanel(page: IJupyterLabPageFixture) {
  await page.sidebar.openTab('repro-jupyter-panel');
  const panel = page.locator('#repro-jupyter-panel');
  await expect(panel).toBeVisible();
  return panel;
}
