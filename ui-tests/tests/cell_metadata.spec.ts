/**
 * End to end: `%%repro` in JupyterLab writes cell and notebook metadata through
 * the comm, the metadata survives a save, and a headless `jupyter repro run` of
 * the saved notebook records the same cell metadata.
 */
import { expect, test } from '@jupyterlab/galata';
import { execFileSync } from 'child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { cellMetadata, METADATA_KEY, notebookPath } from './helpers';

const SCREENSHOTS = path.join(__dirname, '..', 'screenshots');

test('%%repro metadata: Lab, saved file and headless run agree', async ({ page }, testInfo) => {
  // (a) a notebook that loads the extension and records one seeded cell
  await page.notebook.createNew('repro.ipynb');
  await page.notebook.setCell(0, 'code', '%load_ext repro_jupyter');
  await page.notebook.addCell(
    'code',
    '%%repro --seed 7\nimport random\nprint(random.random())'
  );
  await page.notebook.run();

  // (b) the kernel's record reached cell 1's model
  await expect
    .poll(() => cellMetadata(page, 1), { timeout: 60_000 })
    .toEqual(expect.objectContaining({ seed: expect.any(Number) }));
  const labMeta = (await cellMetadata(page, 1)) as Record<string, unknown>;
  expect(labMeta.record).toMatch(/^sha256:/);

  // (c) save, then read the file the server wrote
  await page.notebook.save();
  const nbPath = await notebookPath(page);
  const response = await page.request.get(
    `/api/contents/${nbPath.split('/').map(encodeURIComponent).join('/')}?content=1&type=notebook`
  );
  expect(response.ok()).toBe(true);
  const saved = (await response.json()).content;
  expect(saved.cells[1].metadata[METADATA_KEY]).toEqual(labMeta);
  expect(typeof saved.metadata[METADATA_KEY]?.master_seed).toBe('number');

  // (e) screenshots: the run notebook with its output
  await page.screenshot({ path: testInfo.outputPath('cell_metadata.png') });
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, 'cell_metadata.png') });

  // (d) headless run of the saved notebook records the same cell metadata
  const dir = mkdtempSync(path.join(tmpdir(), 'repro-ui-'));
  const savedFile = path.join(dir, 'saved.ipynb');
  const headlessFile = path.join(dir, 'headless.ipynb');
  writeFileSync(savedFile, JSON.stringify(saved, null, 1) + '\n');
  try {
    execFileSync('jupyter', ['repro', 'run', savedFile, '-o', headlessFile], {
      cwd: dir,
      encoding: 'utf8',
      stdio: 'pipe',
      timeout: 180_000
    });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`jupyter repro run failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
  const headless = JSON.parse(readFileSync(headlessFile, 'utf8'));
  await testInfo.attach('headless.ipynb', { path: headlessFile });
  expect(headless.cells[1].metadata[METADATA_KEY]).toEqual(labMeta);
  rmSync(dir, { recursive: true, force: true }); // kept on failure, for its .repro store
});
