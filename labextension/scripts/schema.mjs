#!/usr/bin/env node
/**
 * Generate (or check) the TypeScript types of the repro-jupyter data model.
 *
 * The JSON Schema in the Python package is the single source of truth; the
 * frontend only gets types derived from it, so a schema change that the
 * frontend has not picked up fails CI (`jlpm check:schema`) instead of
 * drifting silently.
 *
 *   node labextension/scripts/schema.mjs write   # jlpm build:schema
 *   node labextension/scripts/schema.mjs check   # jlpm check:schema
 *
 * Options (for trying another schema): --schema <file> --out <file>
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileFromFile } from 'json-schema-to-typescript';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DEFAULT_SCHEMA = join(ROOT, 'repro_jupyter', 'schema', 'record.v1.json');
const DEFAULT_OUT = join(ROOT, 'labextension', 'src', 'schema.ts');

function parseArgs(argv) {
  const [mode, ...rest] = argv;
  const opts = { mode, schema: DEFAULT_SCHEMA, out: DEFAULT_OUT };
  for (let i = 0; i < rest.length; i += 2) {
    const key = rest[i].replace(/^--/, '');
    if (!['schema', 'out'].includes(key) || rest[i + 1] === undefined) {
      throw new Error(`unknown or incomplete option: ${rest[i]}`);
    }
    opts[key] = resolve(rest[i + 1]);
  }
  if (mode !== 'write' && mode !== 'check') {
    throw new Error('usage: schema.mjs write|check [--schema FILE] [--out FILE]');
  }
  return opts;
}

/**
 * The data-model version, read from the schema (the `const` of the notebook
 * metadata's `schema_version`): it lives in the schema file only, Python reads
 * it from there too (repro_jupyter.schema.SCHEMA_VERSION).
 */
function schemaVersion(schemaPath) {
  const schema = JSON.parse(readFileSync(schemaPath, 'utf8'));
  const version =
    schema.$defs?.notebookMetadata?.properties?.schema_version?.const;
  if (!Number.isInteger(version)) {
    throw new Error(`${schemaPath}: notebookMetadata.schema_version has no integer const`);
  }
  return version;
}

/** Render the schema to TypeScript; deterministic for a given lockfile. */
async function render(schemaPath) {
  const types = await renderTypes(schemaPath);
  return (
    types +
    '\n/** The data-model version this frontend was built against (from the schema). */\n' +
    `export const SCHEMA_VERSION = ${schemaVersion(schemaPath)};\n`
  );
}

async function renderTypes(schemaPath) {
  const source = relative(ROOT, schemaPath).split('\\').join('/');
  return compileFromFile(schemaPath, {
    bannerComment:
      '/* eslint-disable */\n' +
      '/**\n' +
      ` * Generated from ${source} by json-schema-to-typescript.\n` +
      ' * DO NOT EDIT: change the schema, then run `jlpm build:schema`.\n' +
      ' * CI runs `jlpm check:schema` to make sure this file is current.\n' +
      ' */',
    cwd: dirname(schemaPath),
    // Emit every $defs entry (cellMetadata, notebookMetadata, ...), not only
    // those reachable from the root schema.
    unreachableDefinitions: true,
    strictIndexSignatures: true,
    unknownAny: true,
    format: true,
    style: { singleQuote: true, trailingComma: 'none', printWidth: 100 }
  });
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const generated = await render(opts.schema);
  if (opts.mode === 'write') {
    writeFileSync(opts.out, generated);
    console.log(`wrote ${relative(ROOT, opts.out)}`);
    return;
  }
  const tmp = mkdtempSync(join(tmpdir(), 'repro-schema-'));
  const fresh = join(tmp, 'schema.ts');
  try {
    writeFileSync(fresh, generated);
    let committed = null;
    try {
      committed = readFileSync(opts.out, 'utf8');
    } catch {
      // missing file: reported below
    }
    if (committed === generated) {
      console.log(`${relative(ROOT, opts.out)} is up to date`);
      return;
    }
    console.error(
      `${relative(ROOT, opts.out)} is out of date with ${relative(ROOT, opts.schema)}; run \`jlpm build:schema\`.`
    );
    if (committed !== null) {
      try {
        execFileSync('diff', ['-u', opts.out, fresh], { stdio: 'inherit' });
      } catch {
        // diff exits 1 when the files differ (or is missing): the message above suffices
      }
    }
    process.exitCode = 1;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch(err => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 2;
});
