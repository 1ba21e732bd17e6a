/**
 * The panel's Checkpoints section (issue 15 §2): a notebook that saves a
 * training milestone with `repro_jupyter.checkpoint` lists it with its
 * values, the cell that saved it (1-based, a link), when, whether resuming
 * is exact and what it holds.
 */
import { expect, test } from '@jupyterlab/galata';
import { activeCellIndex } from './helpers';
import { openPanel, recordNotebook } from './recorded';

const SOURCES = [
  '%load_ext repro_jupyter\n%repro on --seed 3',
  [
    'import torch',
    'import repro_jupyter',
    'model = torch.nn.Linear(3, 2)',
    'data = torch.utils.data.TensorDataset(torch.ones(8, 3))',
    'loader = torch.utils.data.DataLoader(data, batch_size=4, shuffle=True,',
    '                                     generator=torch.Generator().manual_seed(1))'
  ].join('\n'),
  'digest = repro_jupyter.checkpoint("epoch-1", model=model, loader=loader, epoch=1)'
];

test('the Checkpoints section lists a saved milestone', async ({ page }) => {
  const panel = await openPanel(page);
  await recordNotebook(page, 'milestones.ipynb', SOURCES);
  const section = panel.locator('.jp-repro-section-checkpoints');
  await expect(section.locator('.jp-repro-section-title')).toHaveText('Checkpoints');
  const row = section.locator('.jp-repro-milestone');
  await expect(row).toHaveCount(1, { timeout: 60_000 });
  await expect(row.locator('.jp-repro-milestone-name')).toHaveText('epoch-1');
  await expect(row.locator('.jp-repro-milestone-extra')).toHaveText('epoch 1');
  await expect(row.locator('.jp-repro-milestone-exact')).toHaveText('exact resume: yes');
  await expect(row.locator('.jp-repro-milestone-parts')).toContainText('weights, loader, rng');
  await expect(row.locator('.jp-repro-milestone-when')).not.toBeEmpty();
  await expect(row).toHaveAttribute('title', /^Manifest sha256:/);

  const cell = row.locator('.jp-repro-milestone-cell');
  await expect(cell).toHaveText('cell 3');
  await page.notebook.selectCells(0);
  await cell.click();
  await expect.poll(() => activeCellIndex(page)).toBe(2);
});
