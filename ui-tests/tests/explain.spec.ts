/**
 * "Find the cause" in the drift view: a notebook recorded with tinypkg 1.0
 * (prints 0.5) runs in a kernel that now has tinypkg 2.0 (prints 0.25).
 * Re-execute and compare shows the drift with its *likely* causes; "Find the
 * cause" runs explain on the server (trials in their own environments,
 * hermetic: a local wheelhouse named in the notebook's pyproject.toml) and
 * shows "proven cause: tinypkg" with the trials table.
 *
 * Setup (explain_setup.py) builds the user environment and the recorded
 * notebook in this test's folder of the server root, and a kernelspec the
 * running server finds; teardown removes them.
 */
import { expect, test } from '@jupyterlab/galata';
import type { Locator, TestInfo } from '@playwright/test';
import { execFileSync } from 'child_process';
import { mkdirSync } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { openPanel, SCREENSHOTS } from './recorded';

// Re-execution restarts the kernel: galata's kernel mock breaks restarts.
test.use({ kernels: null });

const SETUP = path.join(__dirname, 'explain_setup.py');
const PYTHON = process.env.REPRO_PYTHON || 'python';
const KERNEL = `repro-explain-ui-${process.pid}`;

function python(...args: string[]): string {
  return execFileSync(PYTHON, [SETUP, ...args], { encoding: 'utf-8', timeout: 300_000 });
}

async function shoot(locator: Locator, name: string, testInfo: TestInfo): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await locator.scrollIntoViewIfNeeded();
  await locator.screenshot({ path: testInfo.outputPath(name) });
  await locator.screenshot({ path: path.join(SCREENSHOTS, name) });
}

test('find the cause: a package upgrade is proven to be why a cell drifts', async ({
  page,
  tmpPath
}, testInfo) => {
  test.setTimeout(420_000);
  const serverRoot: string = await page.evaluate(
    () => JSON.parse(document.getElementById('jupyter-config-data')!.textContent!).serverRoot
  );
  const root = serverRoot.startsWith('~')
    ? path.join(os.homedir(), serverRoot.slice(1))
    : serverRoot;
  const made = JSON.parse(
    python('setup', path.join(root, tmpPath), KERNEL).trim().split('\n').pop()!
  );
  try {
    // The page loaded before the kernelspec existed: ask the server for the list again.
    await page.evaluate(() => (window as any).jupyterapp.serviceManager.kernelspecs.refreshSpecs());
    await page.notebook.openByPath(`${tmpPath}/explain.ipynb`);
    await page.notebook.activate('explain.ipynb');
    const kernelName = () =>
      page.evaluate(
        () => (window as any).jupyterapp.shell.currentWidget.sessionContext.session?.kernel?.name
      );
    await expect.poll(kernelName, { timeout: 60_000 }).toBe(KERNEL);
    const panel = await openPanel(page);
    await panel.locator('.jp-repro-reexecute').click();
    await expect(panel.locator('.jp-repro-summary')).toBeVisible({ timeout: 150_000 });

    const cell = page.locator('.jp-Notebook .jp-Cell').nth(1);
    await expect(cell).toHaveClass(/jp-repro-drifted/);
    const view = cell.locator('.jp-repro-drift-view');
    await expect(view.locator('.jp-repro-side-old pre').first()).toContainText('0.5');
    await expect(view.locator('.jp-repro-side-new pre').first()).toContainText('0.25');
    await expect(view.locator('.jp-repro-drift-causes')).toContainText(
      'Likely causes (not proven)'
    );

    const start = view.locator('.jp-repro-explain-start');
    await expect(start).toBeEnabled();
    await start.click();
    // While it runs: numbered trials, Cancel, and the button disabled with a reason.
    const progress = view.locator('.jp-repro-explain-progress');
    await expect(progress).toBeVisible();
    await expect(progress.locator('.jp-repro-explain-progress-text')).toHaveText(
      /Starting…|trial \d+ of ≤\d+: .+…|preparing a trial environment/
    );
    await expect(start).toBeDisabled();
    await expect(start).toHaveAttribute('title', /trials are running/);

    const report = view.locator('.jp-repro-explain-report');
    await expect(report).toBeVisible({ timeout: 300_000 });
    await expect(progress).toHaveCount(0);
    await expect(report.locator('.jp-repro-explain-badge-proven')).toHaveText('proven');
    await expect(report.locator('.jp-repro-explain-text')).toContainText(
      'proven cause: tinypkg 2.0 (recorded 1.0)'
    );
    // The proven cause is apart from the heuristic ones: its own block, after "Likely causes".
    await expect(view.locator('.jp-repro-drift-causes .jp-repro-explain-badge')).toHaveCount(0);
    const rows = report.locator('.jp-repro-explain-trials tbody tr');
    await expect(rows).toHaveCount(3);
    await expect(rows.nth(2)).toContainText('tinypkg 1.0 (now 2.0)');
    await expect(rows.nth(2).locator('.jp-repro-explain-result')).toHaveText('reproduced');
    await expect(rows.nth(0).locator('.jp-repro-explain-result')).toHaveText('drift');
    await expect(start).toBeEnabled();
    await expect(start).toHaveText('Find the cause again');

    await shoot(view, 'explain-proven.png', testInfo);
    await page.theme.setDarkTheme();
    await expect(report.locator('.jp-repro-explain-badge-proven')).toBeVisible();
    await shoot(view, 'explain-proven-dark.png', testInfo);
  } finally {
    python('teardown', KERNEL, made.env);
  }
});
