/**
 * Verify is guarded (issue 14 item 4, item 11's naming, issue 15 §1):
 *  - it asks "Restart the kernel?" before discarding a live kernel's state;
 *    Cancel keeps the kernel, "Don't ask again" is kept in the settings;
 *  - while it runs both buttons (toolbar, panel) are disabled and look it,
 *    and a second click restarts nothing;
 *  - when the server does not answer the handshake, nothing is restarted and
 *    the panel says why;
 *  - the palette has "Verify: re-execute and compare";
 *  - the replay's kernel starts with PYTHONHASHSEED=0.
 */
import { expect, galata, test, type IJupyterLabPageFixture } from '@jupyterlab/galata';
import { cellTextOutputs } from './helpers';
import { openPanel, recordNotebook, SOURCES } from './recorded';

test.use({
  kernels: null, // re-execution restarts the kernel
  mockSettings: galata.DEFAULT_SETTINGS // JupyterLab's defaults: askBeforeRestart true
});

const TOOLBAR = '.jp-NotebookPanel-toolbar .jp-repro-toolbar-button'; // a jp-button
const HASHSEED = 'import os\nprint("hashseed", os.environ.get("PYTHONHASHSEED"))';

const WEIGHTS = 'print(round(float(weights.sum()), 4))';

/** Every kernel restart the page asks the server for, from now on. */
function watchRestarts(page: IJupyterLabPageFixture): string[] {
  const restarts: string[] = [];
  page.on('request', request => {
    if (/\/api\/kernels\/[^/?]+\/restart/.test(request.url())) {
      restarts.push(request.url());
    }
  });
  return restarts;
}

/** Run `code` silently in the current kernel and return its stdout. */
async function inKernel(page: IJupyterLabPageFixture, code: string): Promise<string> {
  return page.evaluate(async source => {
    const kernel = (window as any).jupyterapp.shell.currentWidget.sessionContext.session.kernel;
    let out = '';
    const future = kernel.requestExecute({ code: source, silent: false, store_history: false });
    future.onIOPub = (msg: any) => {
      if (msg.header.msg_type === 'stream') {
        out += msg.content.text;
      }
    };
    await future.done;
    return out.trim();
  }, code);
}

test('Verify asks first, keeps the kernel on Cancel, and is disabled while it runs', async ({
  page
}) => {
  test.setTimeout(240_000);
  await recordNotebook(page, 'guarded.ipynb', [...SOURCES, HASHSEED]);
  const n = SOURCES.length + 1;
  const restarts = watchRestarts(page);
  expect(await inKernel(page, WEIGHTS)).toMatch(/^\d/);

  // The palette names the command as the toolbar does.
  await page.keyboard.press('Control+Shift+C');
  const palette = page.locator('#command-palette');
  await palette.locator('input').fill('Verify');
  await expect(
    palette.locator('.lm-CommandPalette-item', { hasText: 'Verify: re-execute and compare' })
  ).toHaveCount(1);
  await page.keyboard.press('Escape');

  // 1. Asked first; Cancel keeps the kernel and its variables.
  const toolbar = page.locator(TOOLBAR);
  await expect(toolbar).toContainText('Verify');
  await toolbar.click();
  const dialog = page.locator('.jp-Dialog');
  await expect(dialog).toContainText('Restart the kernel?');
  await expect(dialog.locator('.jp-Dialog-checkbox')).toContainText("Don't ask again");
  await dialog.locator('.jp-Dialog-button', { hasText: 'Cancel' }).click();
  await expect(dialog).toHaveCount(0);
  expect(restarts).toEqual([]);
  expect(await inKernel(page, WEIGHTS)).toMatch(/^\d/);

  // 2. Confirmed with "Don't ask again": it runs; both buttons are disabled and look it.
  await toolbar.click();
  await dialog.locator('.jp-Dialog-checkbox input').check();
  await dialog.locator('.jp-Dialog-button', { hasText: 'Restart and verify' }).click();
  const panel = await openPanel(page);
  await expect(panel.locator('.jp-repro-progress')).toBeVisible({ timeout: 30_000 });
  await expect.poll(() => restarts.length, { timeout: 30_000 }).toBe(1);
  const panelButton = panel.locator('.jp-repro-reexecute');
  await expect(toolbar).toHaveAttribute('aria-disabled', 'true');
  await expect(panelButton).toBeDisabled();
  for (const button of [toolbar, panelButton]) {
    const opacity = await button.evaluate(el => Number(getComputedStyle(el).opacity));
    expect(opacity).toBeLessThan(0.6);
  }
  // A second click (forced past the disabled state) restarts nothing.
  await toolbar.click({ force: true });
  await panelButton.click({ force: true });
  const summary = panel.locator('.jp-repro-summary');
  await expect(summary).toBeVisible({ timeout: 150_000 });
  expect(restarts.length).toBe(1);
  await expect(toolbar).toHaveAttribute('aria-disabled', 'false');
  await expect(panelButton).toBeEnabled();
  expect(await toolbar.evaluate(el => Number(getComputedStyle(el).opacity))).toBe(1);

  // The replay's kernel started with PYTHONHASHSEED=0 (the recording's printed what it had).
  const recorded = await cellTextOutputs(page, n - 1);
  expect(recorded).toMatch(/^hashseed /);
  if (recorded.trim() === 'hashseed 0') {
    // every cell but the setup cell (configuration: not recorded, skipped by verify)
    await expect(summary.locator('.jp-repro-headline')).toHaveText(`All ${n - 1} cells reproduced`);
  } else {
    const view = page.locator('.jp-Notebook .jp-Cell').nth(n - 1).locator('.jp-repro-drift-view');
    await expect(view.locator('.jp-repro-side-new')).toContainText('hashseed 0');
  }

  // 3. "Don't ask again" was kept: the next Verify starts without a dialog.
  await toolbar.click();
  await expect(panel.locator('.jp-repro-progress')).toBeVisible({ timeout: 30_000 });
  await expect(dialog).toHaveCount(0);
  await expect(summary).toBeVisible({ timeout: 150_000 });
});

test('Verify restarts nothing when the server does not answer the handshake', async ({ page }) => {
  test.setTimeout(180_000);
  await recordNotebook(page, 'no_server.ipynb');
  const restarts = watchRestarts(page);
  // The server extension goes away (or is mismatched) after the page loaded.
  await page.route(/\/repro-jupyter\//, route =>
    route.fulfill({ status: 404, contentType: 'application/json', body: '{"message": "Not Found"}' })
  );
  const panel = await openPanel(page);
  await panel.locator('.jp-repro-reexecute').click();
  await expect(panel.locator('.jp-repro-section-verify')).toContainText(
    'server extension did not answer',
    { timeout: 30_000 }
  );
  await expect(panel.locator('.jp-repro-section-verify')).toContainText(
    'the kernel was not restarted'
  );
  await expect(page.locator('.jp-Dialog')).toHaveCount(0);
  await page.waitForTimeout(2000);
  expect(restarts).toEqual([]);
  expect(await inKernel(page, WEIGHTS)).toMatch(/^\d/);
});
