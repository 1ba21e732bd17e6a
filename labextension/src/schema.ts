/* eslint-disable */
/**
 * Generated from repro_jupyter/schema/record.v1.json by json-schema-to-typescript.
 * DO NOT EDIT: change the schema, then run `jlpm build:schema`.
 * CI runs `jlpm check:schema` to make sure this file is current.
 */

/**
 * Content address: the hash of an object's bytes, named by its prefix: sha256 for objects written whole (records, environments), BLAKE3 for objects streamed to the store (big checkpoints).
 *
 * This interface was referenced by `ReproJupyterRecordSchemaVersion1`'s JSON-Schema
 * via the `definition` "digest".
 */
export type Digest = string;
/**
 * This interface was referenced by `ReproJupyterRecordSchemaVersion1`'s JSON-Schema
 * via the `definition` "seed".
 */
export type Seed = number;
/**
 * Free text read back from a store and printed by show/env diff: no control characters or line separators (a crafted value could forge lines or drive the terminal).
 *
 * This interface was referenced by `ReproJupyterRecordSchemaVersion1`'s JSON-Schema
 * via the `definition` "text".
 */
export type Text = string;
/**
 * A distribution version (PEP 440, local tags included, e.g. 2.13.0+cpu): no space, newline or shell character.
 *
 * This interface was referenced by `ReproJupyterRecordSchemaVersion1`'s JSON-Schema
 * via the `definition` "pep440Version".
 */
export type Pep440Version = string;
/**
 * A distribution name (PEP 508): letters, digits, '.', '_', '-'; nothing a requirements file, conda file or Dockerfile could read as another line or command.
 *
 * This interface was referenced by `ReproJupyterRecordSchemaVersion1`'s JSON-Schema
 * via the `definition` "pep508Name".
 */
export type Pep508Name = string;

/**
 * The one contract between the kernel, the store, the CLI, the server and the frontend. Notebook and cell metadata (key `repro_jupyter`) hold small pointers; records and environments live in the store, addressed by digest.
 */
export interface ReproJupyterRecordSchemaVersion1 {
  [k: string]: unknown | undefined;
}
/**
 * metadata.repro_jupyter of a notebook.
 *
 * This interface was referenced by `ReproJupyterRecordSchemaVersion1`'s JSON-Schema
 * via the `definition` "notebookMetadata".
 */
export interface NotebookMetadata {
  schema_version: 1;
  master_seed: Seed;
  deterministic?: boolean;
  /**
   * Environment of the last recorded cell.
   */
  environment?: string;
  /**
   * Store location: a path relative to the notebook, or a team store URL without credentials (never an absolute local path).
   */
  store?: string;
  /**
   * The notebook's store folder was not writable: this run's records went to the recording user's cache (~/.cache/repro-jupyter/stores/...), so they exist on that machine only.
   */
  store_fallback?: 'user cache';
}
/**
 * cells[i].metadata.repro_jupyter: small pointers, under ~1 KB.
 *
 * This interface was referenced by `ReproJupyterRecordSchemaVersion1`'s JSON-Schema
 * via the `definition` "cellMetadata".
 */
export interface CellMetadata {
  schema_version: 1;
  /**
   * Stable cell identity: the nbformat cell id, or src:<digest> without one.
   */
  cell_key: string;
  seed: Seed;
  record: Digest;
  environment: Digest;
  /**
   * Content address: the hash of an object's bytes, named by its prefix: sha256 for objects written whole (records, environments), BLAKE3 for objects streamed to the store (big checkpoints).
   */
  source: string;
  /**
   * Content address: the hash of an object's bytes, named by its prefix: sha256 for objects written whole (records, environments), BLAKE3 for objects streamed to the store (big checkpoints).
   */
  outputs: string;
  n_outputs?: number;
  status: 'ok' | 'error';
  nondeterministic?: boolean;
}
/**
 * This interface was referenced by `ReproJupyterRecordSchemaVersion1`'s JSON-Schema
 * via the `definition` "outputDigest".
 */
export interface OutputDigest {
  output_type: 'stream' | 'display_data' | 'execute_result' | 'error';
  name?: string;
  mimetypes?: string[];
  digest: Digest;
}
/**
 * This interface was referenced by `ReproJupyterRecordSchemaVersion1`'s JSON-Schema
 * via the `definition` "inputFile".
 */
export interface InputFile {
  /**
   * Relative to the notebook directory where possible; ~ for the home directory.
   */
  path: string;
  kind: 'file' | 'directory';
  how: 'declared' | 'opened';
  digest?: Digest;
  size?: number;
  files?: number;
  /**
   * Why the content was not hashed.
   */
  skipped?: string;
}
/**
 * This interface was referenced by `ReproJupyterRecordSchemaVersion1`'s JSON-Schema
 * via the `definition` "variableFingerprint".
 */
export interface VariableFingerprint {
  type: string;
  digest?: string;
  shape?: number[];
  dtype?: string;
  size?: number;
  /**
   * No digest, and why: display objects (figures, axes, widgets: 'display object (its output is compared instead)') or values that cannot be hashed at all. A skipped variable is never compared as state.
   */
  skipped?: string;
  /**
   * true: the digest is not proven to follow the value (pickle bytes, or an object of a library whose internal state is unknown, or a container holding one); identical runs still give identical digests. A change of an opaque variable is 'unverified state', not drift (unless --strict-state). Absent: the digest is value-based.
   */
  opaque?: boolean;
  /**
   * Fingerprint scheme that computed the digest (absent: 1, before value-based fingerprints). Digests of different schemes are not comparable: such a variable is unverified, never drift or same.
   */
  scheme?: number;
  /**
   * Co-variables: other names bound to the same object, or objects sharing tensors (a model and its optimizer).
   */
  shares?: string[];
}
/**
 * The full record of one cell execution; its digest is the cell metadata's `record`. Holds no timestamps.
 *
 * This interface was referenced by `ReproJupyterRecordSchemaVersion1`'s JSON-Schema
 * via the `definition` "cellRecord".
 */
export interface CellRecord {
  schema_version: 1;
  kind: 'cell_record';
  cell_key: string;
  source: Digest;
  master_seed: Seed;
  seed: Seed;
  seeded?: string[];
  options?: {
    deterministic?: boolean;
    state?: boolean;
    explicit_seed?: boolean;
    /**
     * Present (false) only when auto-seeding of unseeded generators was switched off.
     */
    auto_seed?: boolean;
  };
  environment: Digest;
  rng: {
    before: {
      [k: string]: Digest | undefined;
    };
    after: {
      [k: string]: Digest | undefined;
    };
    consumed?: string[];
  };
  /**
   * Randomness drawn from sources the master seed does not control.
   */
  unseeded?: string[];
  nondeterministic?: boolean;
  /**
   * Settings in force at the end of the cell that decide whether results are bit-identical.
   */
  deterministic_settings?: {
    CUBLAS_WORKSPACE_CONFIG?: string | null;
    PYTHONHASHSEED?: string | null;
    cuda_matmul_allow_tf32?: boolean;
    cudnn_allow_tf32?: boolean;
    float32_matmul_precision?: string;
    cuda_matmul_fp32_precision?: string;
    cudnn_fp32_precision?: string;
    cudnn_benchmark?: boolean;
    cudnn_deterministic?: boolean;
    torch_deterministic_algorithms?: boolean;
    torch_deterministic_warn_only?: boolean;
    [k: string]: unknown | undefined;
  };
  nondeterminism_warnings?: string[];
  inputs?: InputFile[];
  params?: {
    [k: string]: unknown | undefined;
  };
  outputs: OutputDigest[];
  state?: {
    /**
     * Digest of the previous record of the same kernel session that kept state (null for the first): the chain `variables` is a delta against. Absent in records made before state deltas, whose `variables` are the whole state.
     */
    previous?: string | null;
    /**
     * Variables this cell changed since `previous` (new or re-fingerprinted), and a tombstone for each it deleted; the whole state after the cell is the chain's deltas applied in order.
     */
    variables?: {
      [k: string]: VariableFingerprint | DeletedVariable | undefined;
    };
    /**
     * Variables changed by this cell that were not checkpointed, with the reason.
     */
    not_checkpointed?: {
      [k: string]: string | undefined;
    };
  };
  status: 'ok' | 'error';
  error?: {
    ename?: string;
    evalue?: string;
  };
  /**
   * Generators the cell created or reseeded without a seed, given a seed derived from the cell seed and their order in the cell (absent when there were none).
   */
  auto_seeded?: {
    calls: {
      call: string;
      order: number;
      seed: Seed;
    }[];
    /**
     * Further calls past the listed ones.
     */
    not_listed?: number;
  };
}
/**
 * A tombstone in a state delta: the cell removed this variable (`del x`).
 *
 * This interface was referenced by `ReproJupyterRecordSchemaVersion1`'s JSON-Schema
 * via the `definition` "deletedVariable".
 */
export interface DeletedVariable {
  deleted: true;
}
/**
 * Stable facts about where a cell ran (no time, host name, free memory or secrets).
 *
 * This interface was referenced by `ReproJupyterRecordSchemaVersion1`'s JSON-Schema
 * via the `definition` "environment".
 */
export interface EnvironmentSnapshot {
  schema_version: 1;
  kind: 'environment';
  python: {
    /**
     * platform.python_version(): 3.11.7, 3.13.0rc1, 3.12.0a7+
     */
    version: string;
    implementation?: Text;
    compiler?: Text;
    [k: string]: unknown | undefined;
  };
  os: {
    [k: string]: Text | null | undefined;
  };
  cpu: {
    model?: Text | null;
    count?: number | null;
    usable?: number | null;
    flags?: Text[];
    byteorder?: Text;
    [k: string]: unknown | undefined;
  };
  memory?: {
    total_bytes?: number | null;
    [k: string]: unknown | undefined;
  };
  threads?: {
    [k: string]: unknown | undefined;
  };
  torch?: {
    version: Pep440Version;
    cuda?: Text | null;
    cudnn?: number | string | null;
    cuda_available?: boolean;
    devices?: {
      name: Text;
      capability?: Text;
      [k: string]: unknown | undefined;
    }[];
    error?: Text;
    /**
     * torch settings that change numerical results, read when the environment was captured (also on CPU-only machines).
     */
    settings?: {
      cuda_matmul_allow_tf32?: boolean;
      cudnn_allow_tf32?: boolean;
      float32_matmul_precision?: string;
      cuda_matmul_fp32_precision?: string;
      cudnn_fp32_precision?: string;
      cudnn_benchmark?: boolean;
      cudnn_deterministic?: boolean;
      deterministic_algorithms?: boolean;
      deterministic_warn_only?: boolean;
      cublas_workspace_config?: Text | null;
    };
    [k: string]: unknown | undefined;
  } | null;
  gpu: {
    available: boolean;
    reason?: Text;
    driver_version?: Text;
    cuda_driver_version?: Text;
    devices?: {
      index?: number;
      name: Text;
      uuid?: Text;
      memory_total_bytes?: number;
      compute_capability: Text;
      [k: string]: unknown | undefined;
    }[];
    [k: string]: unknown | undefined;
  };
  git: {
    available: boolean;
    reason?: Text | null;
    commit?: Text | null;
    branch?: Text | null;
    dirty?: boolean;
    diff_digest?: Text | null;
    remote?: Text | null;
    [k: string]: unknown | undefined;
  };
  env_vars: {
    variables: {
      [k: string]: string | undefined;
    };
    omitted_secrets: number;
    [k: string]: unknown | undefined;
  };
  packages: {
    imported: {
      [k: string]: Pep440Version | undefined;
    };
    installed: {
      [k: string]: Pep440Version | undefined;
    };
    [k: string]: unknown | undefined;
  };
}
/**
 * This interface was referenced by `ReproJupyterRecordSchemaVersion1`'s JSON-Schema
 * via the `definition` "cause".
 */
export interface Cause {
  kind:
    | 'source_changed'
    | 'data'
    | 'params'
    | 'seed'
    | 'rng_state'
    | 'unseeded_randomness'
    | 'nondeterministic_here'
    | 'nondeterministic_kernel'
    | 'package_change'
    | 'python_change'
    | 'os_change'
    | 'cpu_change'
    | 'gpu_change'
    | 'threads_change'
    | 'env_var_change'
    | 'upstream'
    | 'not_recorded'
    | 'unknown';
  detail: string;
  score: number;
}
/**
 * This interface was referenced by `ReproJupyterRecordSchemaVersion1`'s JSON-Schema
 * via the `definition` "difference".
 */
export interface Difference {
  /**
   * What differs: an output, the error raised, variable values (state), variables only fingerprintable through pickle bytes (unverified_state), an input file (input), the cell's code (source).
   */
  kind:
    | 'output'
    | 'missing_output'
    | 'extra_output'
    | 'state'
    | 'unverified_state'
    | 'input'
    | 'source'
    | 'error'
    | 'skipped'
    | 'not_run';
  severity?: 'benign' | 'within_tolerance' | 'unverified' | 'drift';
  output_index?: number;
  mimetype?: string;
  detail: string;
  /**
   * Recorded text (truncated), for display.
   */
  old?: string;
  /**
   * New text (truncated), for display.
   */
  new?: string;
  numeric?: {
    max_abs?: number | string;
    max_rel?: number | string;
    rtol?: number;
    atol?: number;
    deltas?: {
      [k: string]: unknown | undefined;
    }[];
  };
  image?: {
    ssim?: number;
    threshold?: number;
    old_size?: unknown[];
    new_size?: unknown[];
    /**
     * Path of a PNG heatmap relative to the report.
     */
    heatmap?: string;
    /**
     * base64 PNG of the recorded image (for self-contained reports).
     */
    old_png?: string;
    /**
     * base64 PNG of the new image.
     */
    new_png?: string;
    /**
     * base64 PNG heatmap of the absolute difference (when no file was written).
     */
    heatmap_png?: string;
    /**
     * x0, y0, x1, y1 of the pixels that differ.
     */
    changed_box?: number[];
  };
  variables?: string[];
  /**
   * The input file that changed (kind input), relative to the notebook.
   */
  path?: string;
}
/**
 * This interface was referenced by `ReproJupyterRecordSchemaVersion1`'s JSON-Schema
 * via the `definition` "cellComparison".
 */
export interface CellComparison {
  index: number;
  id: string | null;
  /**
   * unverified: something changed that could not be judged by value (code edited with matching outputs, a variable only fingerprintable through pickle bytes); never reported as same.
   */
  status: 'same' | 'benign' | 'within_tolerance' | 'unverified' | 'drift' | 'error' | 'skipped';
  /**
   * The cell source (first 2000 characters), for reports.
   */
  source?: string;
  differences: Difference[];
  causes: Cause[];
  /**
   * Outputs differed between repeated runs in this environment.
   */
  flaky?: boolean;
  duration_s?: number;
}
/**
 * Result of `jupyter repro verify` for one notebook.
 *
 * This interface was referenced by `ReproJupyterRecordSchemaVersion1`'s JSON-Schema
 * via the `definition` "driftReport".
 */
export interface DriftReport {
  schema_version: 1;
  kind: 'drift_report';
  notebook: string;
  status: 'reproduced' | 'drift' | 'error';
  /**
   * One line: why the notebook drifted or could not be verified.
   */
  reason?: string | null;
  first_drift: null | {
    index: number;
    id: string | null;
  };
  /**
   * Whether the notebook carried repro-jupyter metadata.
   */
  recorded?: boolean;
  options?: {
    [k: string]: unknown | undefined;
  };
  summary?: {
    [k: string]: number | undefined;
  };
  cells: CellComparison[];
  /**
   * What differs between the recorded and the current environment: {section: [{key, old, new}]}.
   */
  environment_diff?: {
    [k: string]: unknown | undefined;
  } | null;
  duration_s?: number;
}
/**
 * Result of `jupyter repro explain` for one notebook: the trials (controlled re-executions with factors put back as recorded) and the conclusion. A cause is 'proven' only when a trial with it put back reproduced the first drifting cell that the unchanged environment drifted at twice.
 *
 * This interface was referenced by `ReproJupyterRecordSchemaVersion1`'s JSON-Schema
 * via the `definition` "explainReport".
 */
export interface ExplainReport {
  schema_version: 1;
  kind: 'explain_report';
  notebook: string;
  /**
   * Exit codes 0, 1, 3 (2: explain could not run; no report).
   */
  status: 'no_drift' | 'proven' | 'not_proven';
  /**
   * One line for a person.
   */
  conclusion: string;
  first_drift: null | {
    index: number;
    id: string | null;
  };
  /**
   * The proven cause: with these put back the cell reproduces, without them it drifts.
   */
  cause: null | {
    kind: 'packages' | 'threads' | 'hashseed';
    put_back: {
      name: string;
      recorded?: string | null;
      now?: string | null;
    }[];
  };
  /**
   * verify's heuristic causes for the first drifting cell (not proven).
   */
  likely?: Cause[];
  trials: {
    /**
     * verify: the first run; same_seed_again: the control (the same seed, the same environment); packages: distributions put back in a trial environment; threads / hashseed: variables put back as recorded.
     */
    kind: 'verify' | 'same_seed_again' | 'packages' | 'threads' | 'hashseed';
    /**
     * What this trial put back as recorded, one line each (e.g. 'tinypkg 1.0 (now 2.0)', 'OMP_NUM_THREADS=1').
     */
    put_back: string[];
    /**
     * Up to and including the first drifting cell.
     */
    result: 'reproduced' | 'drift' | 'unverified' | 'error';
    seconds: number;
    /**
     * The trial restored the state after this cell (index in nb.cells) from its checkpoint and ran only the drifting cell; absent: it ran from the top.
     */
    from_cell?: number;
    /**
     * The trial environment (null: the kernel's own).
     */
    environment: null | {
      digest: Digest;
      pins: string[];
      /**
       * Found again in the trial cache instead of built.
       */
      reused: boolean;
    };
    detail?: string;
  }[];
  /**
   * What could not be put back or tried, one line each.
   */
  notes?: string[];
  bisection?: {
    candidates: number;
    trials: number;
    exhausted: boolean;
  };
  verify?: {
    status?: string;
    reason?: string | null;
    [k: string]: unknown | undefined;
  };
  duration_s?: number;
}

/** The data-model version this frontend was built against (from the schema). */
export const SCHEMA_VERSION = 1;
