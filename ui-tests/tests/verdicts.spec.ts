/**
 * Verdicts people can trust (issue 14 item 9): an unrecorded notebook is told
 * so and gets Lab advice, never a CLI flag; a failing cell keeps the summary
 * from green and is named with its error, as is the cell left uncompared after
 * it; error and unseeded cells get badges of their own, with words; the
 * recorded hyperparameters are shown in the panel.
 */
import { expect, test, type IJupyterLabPageFixture } from '@jupyterlab/galata';
import { activeCellIndex, cellMetadata, setCodeCells } from './helpers';
import { openPanel } from './recorded';

test.use({ kernels: null }); // re-execution restarts the kernel

const CLI_FLAG = /`?--[a-z]|jupyter repro /;

async function reexecute(page: IJupyterLabPageFixture) {
  const panel = await openPanel(page);
  await panel.locator('.jp-repro-reexecute').click();
  const summary = panel.locator('.jp-repro-summary');
  await expect(summary).toBeVisible({ timeout: 150_000 });
  return { panel, summary };
}

function badge(page: IJupyterLabPageFixture, index: number) {
  return page.locator('.jp-Notebook .jp-Cell').nth(index).locator('.jp-repro-badge');
}

test('an unrecorded notebook is told so, with Lab advice only', async ({ page }) => {
  await page.notebook.createNew('plain.ipynb');
  await setCodeCells(page, ['import random\nx = 1', 'print(random.random())', 'print(x + 1)']);
  await page.notebook.run();
  await page.notebook.save();

  const { panel, summary } = await reexecute(page);
  await expect(summary.locator('.jp-repro-headline')).toHaveText(
    'Not recorded: outputs compared with the saved ones only'
  );
  await expect(summary).toHaveClass(/jp-repro-summary-unrecorded/);
  await expect(summary).toContainText('1 of 3 cells differ from the saved outputs');
  await expect(summary).toContainText('%repro on');
  await expect(summary.locator('.jp-repro-count-same')).toHaveText('2 same as saved');
  // "nothing recorded explains this (same code, seeds, data...)" beside "not recorded" contradicts it
  await expect(summary).not.toContainText('nothing recorded explains');
  await expect(summary.locator('.jp-repro-cause')).toHaveCount(1);
  await expect(summary.locator('.jp-repro-cause')).toContainText(
    'only the saved outputs were compared'
  );
  // the badges follow the report (a refresh after the summary): wait for the last one's words
  await expect(badge(page, 2)).toHaveAttribute(
    'title',
    /Not recorded: only the saved outputs were compared/
  );
  const texts = [
    await panel.locator('.jp-repro-section-verify').innerText(),
    await page.locator('.jp-repro-drift-view').first().innerText()
  ];
  for (let i = 0; i < 3; i++) {
    texts.push((await badge(page, i).getAttribute('title')) ?? '');
  }
  for (const text of texts) {
    expect(text).not.toMatch(CLI_FLAG);
  }
  expect(texts[4]).toContain('Not recorded: only the saved outputs were compared');
});

const SOURCES = [
  '%load_ext repro_jupyter\n%repro on --seed 3 --no-auto-seed',
  'lr = 0.01\nepochs = 3\nprint(lr * epochs)',
  // draws from an entropy-seeded generator but keeps nothing that shows it
  'import numpy as np\nrng = np.random.default_rng()\nflip = rng.random() < 2\ndel rng',
  '1 / 0',
  'print("after")'
];

test('errors, unseeded randomness and hyperparameters are shown in words', async ({ page }) => {
  await page.notebook.createNew('failing.ipynb');
  await setCodeCells(page, SOURCES);
  // Run all stops at cell 4: cell 5 never runs in the recording (galata's run() would wait for it)
  await page.evaluate(() => (window as any).jupyterapp.commands.execute('notebook:run-all-cells'));
  for (const i of [1, 2, 3]) {
    await expect
      .poll(() => cellMetadata(page, i), { timeout: 60_000, message: `cell ${i + 1} recorded` })
      .toEqual(expect.objectContaining({ record: expect.stringMatching(/^sha256:/) }));
  }
  await page.notebook.save();
  const panel = await openPanel(page);

  // Provenance: the hyperparameters of cell 2, by name
  const params = panel.locator('.jp-repro-section-provenance .jp-repro-params');
  await expect(params).toContainText('lr', { timeout: 30_000 });
  await expect(params.locator('tr', { hasText: 'epochs' })).toContainText('3');
  await expect(params.locator('tr', { hasText: 'lr' })).toContainText('0.01');
  await params.getByRole('button', { name: 'cell 2' }).click();
  await expect.poll(() => activeCellIndex(page)).toBe(1);

  // Badges from the records: clean, unseeded and failing cells differ, and say why
  await expect(badge(page, 1)).toHaveAttribute('data-kind', 'recorded');
  await expect(badge(page, 2)).toHaveAttribute('data-kind', 'nondeterministic');
  await expect(badge(page, 2)).toHaveAttribute(
    'title',
    /randomness the master seed does not control/
  );
  await expect(badge(page, 3)).toHaveAttribute('data-kind', 'error');
  await expect(badge(page, 3)).toHaveAttribute(
    'title',
    /raised ZeroDivisionError: division by zero/
  );

  const { summary } = await reexecute(page);
  await expect(summary.locator('.jp-repro-headline')).toHaveText(
    'Reproduced, but cell 4 raised an error'
  );
  await expect(summary).not.toHaveClass(/jp-repro-summary-reproduced/);
  await expect(summary).toHaveClass(/jp-repro-summary-warn/);
  const notices = summary.locator('.jp-repro-notice');
  await expect(notices).toHaveCount(2);
  await expect(notices.nth(0)).toContainText(
    'Cell 4 raised ZeroDivisionError: division by zero, as when it was recorded.'
  );
  await expect(notices.nth(1)).toContainText(
    'Cell 5 not compared: not executed in the saved notebook'
  );
  await expect(notices.nth(1)).toContainText('after cell 4, which raised');
  await notices.nth(0).getByRole('button', { name: 'cell 4' }).click();
  await expect.poll(() => activeCellIndex(page)).toBe(3);

  // After the re-execution: ✓ for the clean cell only
  await expect(badge(page, 1)).toHaveAttribute('data-kind', 'reproduced');
  await expect(badge(page, 2)).toHaveAttribute('data-kind', 'nondeterministic');
  await expect(badge(page, 2)).toHaveAttribute('title', /happened to give the recorded outputs/);
  await expect(badge(page, 3)).toHaveAttribute('data-kind', 'error');
  await expect(badge(page, 3)).toHaveAttribute('title', /the same error/);
});
