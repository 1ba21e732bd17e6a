/**
 * Benchmarks that need a real JupyterLab (bench/lab_reexecute.py runs them): the same browser and
 * server set-up as the UI tests, but timings are results here, never assertions.
 */
import { defineConfig } from '@playwright/test';
import base from './playwright.config';

export default defineConfig({
  ...base,
  testDir: './bench',
  testMatch: '*.bench.ts',
  retries: 0,
  timeout: 900_000,
  reporter: [['list']]
});
