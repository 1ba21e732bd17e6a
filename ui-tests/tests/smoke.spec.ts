/**
 * The repro-jupyter frontend extension is installed, loads and activates.
 */
import { expect, test } from '@jupyterlab/galata';

const PLUGIN_ID = 'repro-jupyter:plugin';

test('the repro-jupyter plugin activates', async ({ page }, testInfo) => {
  const logs: string[] = [];
  page.on('console', msg => logs.push(msg.text()));
  // The first load happened before the listener existed: load Lab again.
  await page.reload();

  expect(logs).toContain('JupyterLab extension repro-jupyter is activated!');
  const state = await page.evaluate(id => {
    const app = (window as any).jupyterapp;
    return { has: app.hasPlugin(id), active: app.isPluginActivated(id) };
  }, PLUGIN_ID);
  expect(state).toEqual({ has: true, active: true });

  // The server hands the federated extension to the page under our npm name.
  const federated = await page.evaluate(() => {
    const config = document.getElementById('jupyter-config-data')?.textContent ?? '{}';
    const extensions = JSON.parse(config).federated_extensions ?? [];
    return extensions.map((ext: { name: string }) => ext.name);
  });
  expect(federated).toContain('repro-jupyter');

  await page.screenshot({ path: testInfo.outputPath('smoke.png') });
});
