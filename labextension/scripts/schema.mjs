#!/usr/bin/env node
/**
 * Generate (or check) the TypeScript types of the repro-jupyter contract.
 *
 * The JSON Schemas in the Python package are the single source of truth; the
 * frontend only gets types derived from them, so a schema change that the
 * frontend has not picked up fails CI (`jlpm check:schema`) instead of
 * drifting silently:
 *
 *   repro_jupyter/schema/record.v1.json   -> labextension/src/schema.ts
 *     (records, environments, metadata, reports)
 *   repro_jupyter/schema/messages.v1.json -> labextension/src/messages.ts
 *     (the comm messages both ways, the runner comm's requests and replies,
 *     the JSON bodies of the server's routes)
 *
 *   node labextension/scripts/schema.mjs write   # jlpm build:schema
 *   node labextension/scripts/schema.mjs check   # jlpm check:schema
 *
 * messages.v1.json points into record.v1.json with relative `$ref`s
 * (`record.v1.json#/$defs/cellMetadata`); messages.ts imports those types
 * from schema.ts instead of declaring them a second time. messages.ts is
 * formatted with the project's prettier config (it is not prettier-ignored).
 *
 * Options (for trying another record schema): --schema <file> --out <file>
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compile, compileFromFile } from 'json-schema-to-typescript';
import * as prettier from 'prettier';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DEFAULT_SCHEMA = join(ROOT, 'repro_jupyter', 'schema', 'record.v1.json');
const DEFAULT_OUT = join(ROOT, 'labextension', 'src', 'schema.ts');
const MESSAGES_SCHEMA = join(ROOT, 'repro_jupyter', 'schema', 'messages.v1.json');
const MESSAGES_OUT = join(ROOT, 'labextension', 'src', 'messages.ts');

function parseArgs(argv) {
  const [mode, ...rest] = argv;
  const opts = { mode, schema: DEFAULT_SCHEMA, out: DEFAULT_OUT, messages: true };
  for (let i = 0; i < rest.length; i += 2) {
    const key = rest[i].replace(/^--/, '');
    if (!['schema', 'out'].includes(key) || rest[i + 1] === undefined) {
      throw new Error(`unknown or incomplete option: ${rest[i]}`);
    }
    opts[key] = resolve(rest[i + 1]);
    opts.messages = false; // trying another record schema: messages.ts is not touched
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

function banner(schemaPath) {
  const source = relative(ROOT, schemaPath).split('\\').join('/');
  return (
    '/* eslint-disable */\n' +
    '/**\n' +
    ` * Generated from ${source} by json-schema-to-typescript.\n` +
    ' * DO NOT EDIT: change the schema, then run `jlpm build:schema`.\n' +
    ' * CI runs `jlpm check:schema` to make sure this file is current.\n' +
    ' */'
  );
}

async function renderTypes(schemaPath) {
  return compileFromFile(schemaPath, {
    bannerComment: banner(schemaPath),
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

/** The TypeScript name json-schema-to-typescript gives a `$defs` entry of record.v1.json. */
function recordTypeName(recordSchema, def) {
  const entry = recordSchema.$defs?.[def];
  if (!entry) {
    throw new Error(`record.v1.json has no $defs/${def}`);
  }
  const name = entry.title ?? def;
  return name.charAt(0).toUpperCase() + name.slice(1);
}

/**
 * `record.v1.json#/$defs/<def>[/properties/<p>|/items]...` as a TypeScript
 * type of schema.ts: the def's name, then indexed access for the path below it
 * (`ExplainReport['trials'][number]`).
 */
function recordRefType(recordSchema, ref, imported) {
  const match = /^record\.v1\.json#\/\$defs\/([^/]+)((?:\/[^/]+)*)$/.exec(ref);
  if (!match) {
    throw new Error(`unsupported $ref ${ref}: point at record.v1.json#/$defs/...`);
  }
  const name = recordTypeName(recordSchema, match[1]);
  imported.add(name);
  let type = name;
  const rest = match[2].split('/').filter(Boolean);
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === 'items') {
      type += '[number]';
    } else if (rest[i] === 'properties' && rest[i + 1] !== undefined) {
      type += `['${rest[++i]}']`;
    } else {
      throw new Error(`unsupported $ref path ${ref}`);
    }
  }
  return type;
}

/** A copy of `node` whose record.v1.json `$ref`s are schema.ts types (`tsType`). */
function linkRecordTypes(node, recordSchema, imported) {
  if (Array.isArray(node)) {
    return node.map(item => linkRecordTypes(item, recordSchema, imported));
  }
  if (node === null || typeof node !== 'object') {
    return node;
  }
  const out = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === '$ref' && typeof value === 'string' && !value.startsWith('#')) {
      out.tsType = recordRefType(recordSchema, value, imported);
    } else if (key === 'if' || key === 'then' || key === 'else') {
      // conditions only Python's validator checks (the TS type is the union of the branches)
      continue;
    } else {
      out[key] = linkRecordTypes(value, recordSchema, imported);
    }
  }
  return out;
}

/** `export const` lines for the comm target names the schema declares. */
function commTargets(schema, schemaPath) {
  const targets = schema['x-comm-targets'];
  if (typeof targets?.kernel !== 'string' || typeof targets?.runner !== 'string') {
    throw new Error(`${schemaPath}: x-comm-targets needs kernel and runner names`);
  }
  return (
    '\n/** The comm the kernel opens (also the metadata key). */\n' +
    `export const COMM_TARGET = ${JSON.stringify(targets.kernel)};\n` +
    '\n/** The comm a runner opens with a RunnerRequest as its data. */\n' +
    `export const RUNNER_COMM_TARGET = ${JSON.stringify(targets.runner)};\n`
  );
}

/** messages.ts: the wire types, importing the data-model types from schema.ts. */
async function renderMessages(schemaPath, recordPath, outPath) {
  const schema = JSON.parse(readFileSync(schemaPath, 'utf8'));
  const recordSchema = JSON.parse(readFileSync(recordPath, 'utf8'));
  const imported = new Set();
  const linked = linkRecordTypes(schema, recordSchema, imported);
  const types = await compile(linked, 'messages', {
    bannerComment: '',
    cwd: dirname(schemaPath),
    declareExternallyReferenced: true,
    unreachableDefinitions: true,
    // `{[k: string]: T}` as the hand-written reply types had it (Object.entries
    // of a reply never yields undefined)
    strictIndexSignatures: false,
    unknownAny: true,
    format: false
  });
  const names = [...imported].sort();
  const text =
    banner(schemaPath) +
    '\n' +
    `import type { ${names.join(', ')} } from './schema';\n\n` +
    types +
    commTargets(schema, schemaPath);
  const config = (await prettier.resolveConfig(outPath)) ?? {};
  return prettier.format(text, { ...config, filepath: outPath });
}

/** Compare `generated` with the committed `out`; true when they are the same. */
function check(out, schemaPath, generated) {
  let committed = null;
  try {
    committed = readFileSync(out, 'utf8');
  } catch {
    // missing file: reported below
  }
  if (committed === generated) {
    console.log(`${relative(ROOT, out)} is up to date`);
    return true;
  }
  console.error(
    `${relative(ROOT, out)} is out of date with ${relative(ROOT, schemaPath)}; run \`jlpm build:schema\`.`
  );
  if (committed !== null) {
    const tmp = mkdtempSync(join(tmpdir(), 'repro-schema-'));
    const fresh = join(tmp, 'fresh.ts');
    try {
      writeFileSync(fresh, generated);
      execFileSync('diff', ['-u', out, fresh], { stdio: 'inherit' });
    } catch {
      // diff exits 1 when the files differ (or is missing): the message above suffices
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  return false;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const targets = [[opts.schema, opts.out, await render(opts.schema)]];
  if (opts.messages) {
    targets.push([
      MESSAGES_SCHEMA,
      MESSAGES_OUT,
      await renderMessages(MESSAGES_SCHEMA, DEFAULT_SCHEMA, MESSAGES_OUT)
    ]);
  }
  let current = true;
  for (const [schemaPath, out, generated] of targets) {
    if (opts.mode === 'write') {
      writeFileSync(out, generated);
      console.log(`wrote ${relative(ROOT, out)}`);
    } else if (!check(out, schemaPath, generated)) {
      current = false;
    }
  }
  if (!current) {
    process.exitCode = 1;
  }
}

main().catch(err => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 2;
});
