/* eslint-disable */
/**
 * Generated from repro_jupyter/schema/messages.v1.json by json-schema-to-typescript.
 * DO NOT EDIT: change the schema, then run `jlpm build:schema`.
 * CI runs `jlpm check:schema` to make sure this file is current.
 */
import type {
  CellMetadata,
  CellRecord,
  Digest,
  DriftReport,
  ExplainReport,
  InputFile,
  NotebookMetadata,
  Seed
} from './schema';

/**
 * Every comm_msg the kernel sends on `repro_jupyter` (hello is the comm_open's data).
 *
 * This interface was referenced by `ReproJupyterMessagesVersion1`'s JSON-Schema
 * via the `definition` "kernelCommMessage".
 */
export type KernelCommMessage =
  | CellRecordedMessage
  | RecordWrittenMessage
  | NotebookMetadataMessage
  | EnvironmentMessage;
/**
 * Every comm_msg the frontend sends on `repro_jupyter`.
 *
 * This interface was referenced by `ReproJupyterMessagesVersion1`'s JSON-Schema
 * via the `definition` "frontendCommMessage".
 */
export type FrontendCommMessage = NotebookMessage | EnvironmentRequestMessage;
/**
 * The data of a `repro_jupyter.runner` comm_open: one request; the kernel answers with one comm_msg (a RunnerReply) and closes the comm.
 *
 * This interface was referenced by `ReproJupyterMessagesVersion1`'s JSON-Schema
 * via the `definition` "runnerRequest".
 */
export type RunnerRequest =
  | ConfigureReplayRequest
  | ConfigureHeadlessRequest
  | FlushRecordsRequest
  | EndReplayRequest
  | HeadlessMetadataRequest;
/**
 * The one comm_msg the kernel sends on a `repro_jupyter.runner` comm: `type` is the request's plus `_reply`.
 *
 * This interface was referenced by `ReproJupyterMessagesVersion1`'s JSON-Schema
 * via the `definition` "runnerReply".
 */
export type RunnerReply =
  | ConfigureReplayReply
  | ConfigureHeadlessReply
  | FlushRecordsReply
  | EndReplayReply
  | HeadlessMetadataReply
  | RunnerFailure;
/**
 * `POST compare` {path, recorded, current, options?}: the drift report (the same judge as `jupyter repro verify`), advice in Lab's words.
 *
 * This interface was referenced by `ReproJupyterMessagesVersion1`'s JSON-Schema
 * via the `definition` "compareReply".
 */
export type CompareReply = DriftReport;

/**
 * The wire contract beside record.v1.json: the `repro_jupyter` comm (kernel <-> frontend), the `repro_jupyter.runner` comm (a runner's request as the comm_open data, one reply, then close) and the JSON bodies of the server's `/repro-jupyter/` routes. Nested metadata, reports and digests are record.v1.json's (relative $refs).
 */
export interface ReproJupyterMessagesVersion1 {
  [k: string]: unknown;
}
/**
 * Kernel -> frontend, the data of the `repro_jupyter` comm_open: the kernel's package version and data-model version (the frontend warns when the latter is not its own).
 *
 * This interface was referenced by `ReproJupyterMessagesVersion1`'s JSON-Schema
 * via the `definition` "helloMessage".
 */
export interface HelloMessage {
  type: 'hello';
  version: string;
  schema_version: number;
  /**
   * Optional messages this kernel sends (absent in kernels older than record_written: the frontend then does not wait for it).
   */
  sends?: 'record_written'[];
}
/**
 * Frontend -> kernel, once the comm is accepted and the notebook is loaded: the notebook's own `repro_jupyter` metadata (maybe unsaved), so a master seed chosen in the UI is honoured.
 *
 * This interface was referenced by `ReproJupyterMessagesVersion1`'s JSON-Schema
 * via the `definition` "notebookMessage".
 */
export interface NotebookMessage {
  type: 'notebook';
  /**
   * null: the notebook holds none.
   */
  metadata: NotebookMetadata | null;
}
/**
 * Kernel -> frontend: a cell was recorded; the frontend writes both metadata verbatim into the notebook.
 *
 * This interface was referenced by `ReproJupyterMessagesVersion1`'s JSON-Schema
 * via the `definition` "cellRecordedMessage".
 */
export interface CellRecordedMessage {
  type: 'cell_recorded';
  /**
   * The nbformat cell id; null when the cell had none.
   */
  cell_id: string | null;
  cell_metadata: CellMetadata;
  notebook_metadata: NotebookMetadata;
}
/**
 * Kernel -> frontend, from the store writer's thread: the record a cell_recorded named is on disk (ok), or its write failed (not ok). The panel asks the server about a record only after this.
 *
 * This interface was referenced by `ReproJupyterMessagesVersion1`'s JSON-Schema
 * via the `definition` "recordWrittenMessage".
 */
export interface RecordWrittenMessage {
  type: 'record_written';
  /**
   * The nbformat cell id; null when the cell had none.
   */
  cell_id: string | null;
  record: Digest;
  ok: boolean;
}
/**
 * Kernel -> frontend: only the notebook-level metadata changed (%repro seed, %repro on ...).
 *
 * This interface was referenced by `ReproJupyterMessagesVersion1`'s JSON-Schema
 * via the `definition` "notebookMetadataMessage".
 */
export interface NotebookMetadataMessage {
  type: 'notebook_metadata';
  notebook_metadata: NotebookMetadata;
}
/**
 * Frontend -> kernel: which environment does the kernel run in now (for the panel's diff)?
 *
 * This interface was referenced by `ReproJupyterMessagesVersion1`'s JSON-Schema
 * via the `definition` "environmentRequestMessage".
 */
export interface EnvironmentRequestMessage {
  type: 'environment_request';
}
/**
 * Kernel -> frontend, the answer to `environment_request`: the current environment's digest, written to the store and flushed; null when the kernel has no store to write it to.
 *
 * This interface was referenced by `ReproJupyterMessagesVersion1`'s JSON-Schema
 * via the `definition` "environmentMessage".
 */
export interface EnvironmentMessage {
  type: 'environment';
  digest: Digest | null;
}
/**
 * Lab re-execute and compare, after the kernel restart: record every cell with the recorded seeds.
 *
 * This interface was referenced by `ReproJupyterMessagesVersion1`'s JSON-Schema
 * via the `definition` "configureReplayRequest".
 */
export interface ConfigureReplayRequest {
  type: 'configure_replay';
  /**
   * The master seed; null: the notebook's own, else a new one.
   */
  seed: Seed | null;
  deterministic: boolean;
}
/**
 * `jupyter repro run` in a fresh kernel: record every code cell of `notebook`.
 *
 * This interface was referenced by `ReproJupyterMessagesVersion1`'s JSON-Schema
 * via the `definition` "configureHeadlessRequest".
 */
export interface ConfigureHeadlessRequest {
  type: 'configure_headless';
  /**
   * The notebook's path, as the runner opened it.
   */
  notebook: string;
  /**
   * The master seed; null: the notebook's own, else a new one.
   */
  seed: Seed | null;
  deterministic: boolean;
  /**
   * Further store paths the input audit leaves out.
   */
  excludes: string[];
}
/**
 * Block until every record so far is on disk (a replay's last step, before compare).
 *
 * This interface was referenced by `ReproJupyterMessagesVersion1`'s JSON-Schema
 * via the `definition` "flushRecordsRequest".
 */
export interface FlushRecordsRequest {
  type: 'flush_records';
}
/**
 * The Lab replay is over, however it ended: the kernel goes back to the user's seed and settings.
 *
 * This interface was referenced by `ReproJupyterMessagesVersion1`'s JSON-Schema
 * via the `definition` "endReplayRequest".
 */
export interface EndReplayRequest {
  type: 'end_replay';
}
/**
 * The headless run is over: everything the runner writes into the notebook (the session closes).
 *
 * This interface was referenced by `ReproJupyterMessagesVersion1`'s JSON-Schema
 * via the `definition` "headlessMetadataRequest".
 */
export interface HeadlessMetadataRequest {
  type: 'headless_metadata';
}
/**
 * `configure_replay` done.
 *
 * This interface was referenced by `ReproJupyterMessagesVersion1`'s JSON-Schema
 * via the `definition` "configureReplayReply".
 */
export interface ConfigureReplayReply {
  type: 'configure_replay_reply';
  ok: true;
}
/**
 * `configure_headless` done.
 *
 * This interface was referenced by `ReproJupyterMessagesVersion1`'s JSON-Schema
 * via the `definition` "configureHeadlessReply".
 */
export interface ConfigureHeadlessReply {
  type: 'configure_headless_reply';
  ok: true;
}
/**
 * `flush_records` done.
 *
 * This interface was referenced by `ReproJupyterMessagesVersion1`'s JSON-Schema
 * via the `definition` "flushRecordsReply".
 */
export interface FlushRecordsReply {
  type: 'flush_records_reply';
  ok: true;
}
/**
 * `end_replay` done.
 *
 * This interface was referenced by `ReproJupyterMessagesVersion1`'s JSON-Schema
 * via the `definition` "endReplayReply".
 */
export interface EndReplayReply {
  type: 'end_replay_reply';
  ok: true;
}
/**
 * Everything the runner writes into the notebook, and what could not be written.
 *
 * This interface was referenced by `ReproJupyterMessagesVersion1`'s JSON-Schema
 * via the `definition` "headlessMetadataReply".
 */
export interface HeadlessMetadataReply {
  type: 'headless_metadata_reply';
  ok: true;
  /**
   * Cell id (or cell key) -> the cell's metadata.
   */
  cells: {
    [k: string]: CellMetadata;
  };
  /**
   * null: the kernel never recorded.
   */
  notebook: NotebookMetadata | null;
  /**
   * What was not written (store warnings), one line each.
   */
  problems: string[];
}
/**
 * The request was refused or failed: one line saying why (no traceback); the kernel keeps going.
 *
 * This interface was referenced by `ReproJupyterMessagesVersion1`'s JSON-Schema
 * via the `definition` "runnerFailure".
 */
export interface RunnerFailure {
  /**
   * The request's type plus `_reply` (an unknown request's too; `unknown_reply` when the request had no usable type).
   */
  type: string;
  ok: false;
  error: string;
}
/**
 * The body of every non-2xx reply (Jupyter Server's APIHandler.write_error): `message` is the one line the panel shows.
 *
 * This interface was referenced by `ReproJupyterMessagesVersion1`'s JSON-Schema
 * via the `definition` "errorReply".
 */
export interface ErrorReply {
  message: string;
  /**
   * The HTTP reason phrase; null for an unhandled error.
   */
  reason: string | null;
  /**
   * Unhandled errors only; always empty.
   */
  traceback?: string;
}
/**
 * `GET info`: the version handshake.
 *
 * This interface was referenced by `ReproJupyterMessagesVersion1`'s JSON-Schema
 * via the `definition` "infoReply".
 */
export interface InfoReply {
  name: 'repro-jupyter';
  version: string;
  schema_version: number;
}
/**
 * The environment summary lines the server prepares for display: each of python, os, cpu, gpu, torch, git, packages, env_vars -> one line.
 *
 * This interface was referenced by `ReproJupyterMessagesVersion1`'s JSON-Schema
 * via the `definition` "environmentSummary".
 */
export interface EnvironmentSummary {
  [k: string]: string;
}
/**
 * One code cell in the provenance answer; `status`, `seed` are its metadata's (null: not recorded).
 *
 * This interface was referenced by `ReproJupyterMessagesVersion1`'s JSON-Schema
 * via the `definition` "cellProvenance".
 */
export interface CellProvenance {
  /**
   * Position in nb.cells (0-based).
   */
  index: number;
  id: string | null;
  recorded: boolean;
  /**
   * The cell's source changed since its record (server-computed).
   */
  stale: boolean;
  status: 'ok' | 'error' | null;
  seed: Seed | null;
  nondeterministic: boolean;
  /**
   * What the cell's record says, for the badges and the panel (null: no record read).
   */
  record: {
    consumed: string[];
    unseeded: string[];
    inputs: InputFile[];
    params: {
      [k: string]: unknown;
    };
    /**
     * The error the cell raised when recorded (null: none).
     */
    error?: CellRecord['error'] | null;
    /**
     * Generators made without a seed that got one derived from the cell seed (their calls).
     */
    auto_seeded?: string[];
    nondeterminism_warnings?: string[];
    /**
     * Every live variable after the cell, sorted.
     */
    variables: string[];
  } | null;
  /**
   * Why the record could not be read (one line).
   */
  problem: string | null;
}
/**
 * `POST provenance` {path, notebook}: per-cell provenance of the open notebook (saved or not).
 *
 * This interface was referenced by `ReproJupyterMessagesVersion1`'s JSON-Schema
 * via the `definition` "provenanceReply".
 */
export interface ProvenanceReply {
  path: string;
  recorded: boolean;
  /**
   * The notebook's repro_jupyter metadata as the request carried it.
   */
  notebook: NotebookMetadata | null;
  environment: {
    digest: Digest;
    summary: EnvironmentSummary;
  } | null;
  cells: CellProvenance[];
  store: {
    /**
     * Why no store could be read.
     */
    problem: string | null;
  };
}
/**
 * A cell (`cell:<index>`) or a version of a variable (`var:<name>:<version>`).
 *
 * This interface was referenced by `ReproJupyterMessagesVersion1`'s JSON-Schema
 * via the `definition` "lineageNode".
 */
export interface LineageNode {
  id: string;
  kind: 'cell' | 'variable';
  label: string;
  cell_index?: number;
  cell_id?: string | null;
  stale?: boolean;
  /**
   * Variables: which write of the name this is (1, 2, ...).
   */
  version?: number;
  /**
   * Variables: the index of the cell that wrote it.
   */
  written_by?: number;
  type?: string | null;
  fingerprint?: string | null;
  /**
   * A loop variable or a `_name`: hidden unless the user asks for temporaries.
   */
  temporary?: boolean;
}
/**
 * cell -> variable: the cell defined or changed it; variable -> cell: the cell read it.
 *
 * This interface was referenced by `ReproJupyterMessagesVersion1`'s JSON-Schema
 * via the `definition` "lineageEdge".
 */
export interface LineageEdge {
  source: string;
  target: string;
  kind: 'writes' | 'reads';
}
/**
 * `POST lineage` {path, notebook}: the cell/variable graph of the open notebook's records.
 *
 * This interface was referenced by `ReproJupyterMessagesVersion1`'s JSON-Schema
 * via the `definition` "lineageReply".
 */
export interface LineageReply {
  nodes: LineageNode[];
  edges: LineageEdge[];
}
/**
 * One difference between two environments.
 *
 * This interface was referenced by `ReproJupyterMessagesVersion1`'s JSON-Schema
 * via the `definition` "environmentChange".
 */
export interface EnvironmentChange {
  key: string;
  old: unknown;
  new: unknown;
}
/**
 * `POST envdiff` {path, notebook, current}: an empty `diff` means the same environment.
 *
 * This interface was referenced by `ReproJupyterMessagesVersion1`'s JSON-Schema
 * via the `definition` "envDiffReply".
 */
export interface EnvDiffReply {
  recorded: Digest | null;
  current: Digest;
  /**
   * Section (python, packages, ...) -> its changes.
   */
  diff: {
    [k: string]: EnvironmentChange[];
  };
}
/**
 * `POST panel` {path, notebook, current}: one refresh of the side panel. `current` is the kernel's environment digest or null; `envdiff` is null when nothing is recorded, the kernel did not report, or it could not be made (then `problems.envdiff` says why).
 *
 * This interface was referenced by `ReproJupyterMessagesVersion1`'s JSON-Schema
 * via the `definition` "panelReply".
 */
export interface PanelReply {
  path: string;
  provenance: ProvenanceReply;
  lineage: LineageReply | null;
  envdiff: EnvDiffReply | null;
  /**
   * A section that could not be made: one line saying why.
   */
  problems: {
    lineage?: string;
    envdiff?: string;
  };
}
/**
 * One training milestone (`repro_jupyter.checkpoint(name, ...)`) as the panel shows it; a manifest that could not be read has `error` and none of the fields after it.
 *
 * This interface was referenced by `ReproJupyterMessagesVersion1`'s JSON-Schema
 * via the `definition` "milestone".
 */
export interface Milestone {
  name: string;
  manifest_digest: Digest;
  /**
   * Seconds since the epoch (the catalog's run log).
   */
  created_at: number;
  cell_key: string | null;
  /**
   * 0-based position of the cell that saved it in the open notebook, when known.
   */
  cell_index: number | null;
  /**
   * The manifest could not be read: one line.
   */
  error?: string;
  /**
   * The keyword values given to `checkpoint` (epoch, loss, ...).
   */
  extra?: {
    [k: string]: unknown;
  };
  /**
   * Whether resuming gives the uninterrupted run's batches; null: no data loader was saved.
   */
  exact_resume?: boolean | null;
  not_exact_because?: string | null;
  /**
   * What it holds: weights, optimizer, scheduler, scaler, loader, probe, rng.
   */
  parts?: string[];
  size?: number;
  model?: string | null;
  recorded?: boolean;
  seeds?: {
    [k: string]: unknown;
  };
}
/**
 * `POST milestones` {path, notebook}: oldest first; `problem` says why there is no store.
 *
 * This interface was referenced by `ReproJupyterMessagesVersion1`'s JSON-Schema
 * via the `definition` "milestonesReply".
 */
export interface MilestonesReply {
  notebook: string;
  milestones: Milestone[];
  problem: string | null;
}
/**
 * `POST kernel-env` {kernel_id, deterministic}: what the kernel gets at its next start.
 *
 * This interface was referenced by `ReproJupyterMessagesVersion1`'s JSON-Schema
 * via the `definition` "kernelEnvReply".
 */
export interface KernelEnvReply {
  kernel_id: string;
  env: {
    PYTHONHASHSEED: string;
    CUBLAS_WORKSPACE_CONFIG?: string;
  };
}
/**
 * `POST explain` {path, find_links?, index_url?, max_trials?} / `explain-status` {job} or {path} / `explain-cancel` {job}: one notebook's "Find the cause" job. `{job: null, state: none}`: no job for this notebook yet; otherwise every field but `started` is present.
 *
 * This interface was referenced by `ReproJupyterMessagesVersion1`'s JSON-Schema
 * via the `definition` "explainJobReply".
 */
export interface ExplainJobReply {
  job: string | null;
  path?: string;
  state: 'none' | 'running' | 'done' | 'failed' | 'cancelled';
  seconds?: number;
  max_trials?: number;
  /**
   * While running: the trial under way and the most there can be (display text from the server).
   */
  progress?: {
    trial: number;
    bound: number;
    text: string;
  } | null;
  /**
   * Trials finished so far, in the order they finished.
   */
  trials?: ExplainReport['trials'][number][];
  report?: ExplainReport | null;
  /**
   * One line when the job failed (or `cancelled`).
   */
  error?: string | null;
  /**
   * `POST explain` only: false when the notebook's running job was given back.
   */
  started?: boolean;
}

/** The comm the kernel opens (also the metadata key). */
export const COMM_TARGET = 'repro_jupyter';

/** The comm a runner opens with a RunnerRequest as its data. */
export const RUNNER_COMM_TARGET = 'repro_jupyter.runner';
