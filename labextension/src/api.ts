/**
 * Typed calls to the repro-jupyter server extension (`/repro-jupyter/*`).
 *
 * The server computes everything (digests, staleness, lineage, comparisons);
 * this module only moves JSON. Errors come back as one line, from the
 * server's `{"message": ...}` body or from the network layer.
 */
import { URLExt } from '@jupyterlab/coreutils';
import type * as nbformat from '@jupyterlab/nbformat';
import { ServerConnection } from '@jupyterlab/services';
import type {
  Digest,
  DriftReport,
  ExplainReport,
  NotebookMetadata
} from './schema';

/** URL prefix of every route. */
export const URL_PREFIX = 'repro-jupyter';

/** An error the server (or the network) reported, as one line. */
export class ReproAPIError extends Error {
  constructor(
    message: string,
    readonly status: number | null
  ) {
    super(message);
    this.name = 'ReproAPIError';
  }
}

/**
 * Call `/repro-jupyter/<endpoint>` and return its JSON body.
 *
 * XSRF and authentication are handled by `ServerConnection.makeRequest`.
 */
export async function requestAPI<T>(
  endpoint: string,
  init: RequestInit = {},
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<T> {
  const url = URLExt.join(settings.baseUrl, URL_PREFIX, endpoint);
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch (error) {
    throw new ReproAPIError(`cannot reach the server: ${String(error)}`, null);
  }
  const text = await response.text();
  let data: unknown = null;
  if (text.length > 0) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const message =
      data && typeof (data as { message?: unknown }).message === 'string'
        ? (data as { message: string }).message
        : `${response.status} ${response.statusText}`.trim();
    throw new ReproAPIError(message, response.status);
  }
  if (data === null) {
    throw new ReproAPIError(
      `${endpoint}: the server sent no JSON`,
      response.status
    );
  }
  return data as T;
}

function post<T>(endpoint: string, body: unknown): Promise<T> {
  return requestAPI<T>(endpoint, {
    method: 'POST',
    body: JSON.stringify(body)
  });
}

/** `GET info`: the version handshake. */
export interface IServerInfo {
  name: string;
  version: string;
  schema_version: number;
}

/** The environment summary lines the server prepares for display. */
export interface IEnvironmentSummary {
  python?: string;
  os?: string;
  cpu?: string;
  gpu?: string;
  torch?: string;
  git?: string;
  packages?: string;
  env_vars?: string;
  [key: string]: string | undefined;
}

/** One code cell in the provenance answer. */
export interface ICellProvenance {
  index: number;
  id: string | null;
  recorded: boolean;
  /** The cell's source changed since its record (server-computed). */
  stale: boolean;
  status: 'ok' | 'error' | null;
  seed: number | null;
  nondeterministic: boolean;
  record: {
    consumed: string[];
    unseeded: string[];
    inputs: { path: string; digest?: string; how: string }[];
    params: Record<string, unknown>;
    variables: string[];
    /** The error the cell raised when recorded (absent in records of older servers). */
    error?: { ename?: string; evalue?: string } | null;
    /** Generators made without a seed that got one derived from the cell seed (their calls). */
    auto_seeded?: string[];
    nondeterminism_warnings?: string[];
  } | null;
  problem: string | null;
}

/** `POST provenance`. */
export interface IProvenance {
  path: string;
  recorded: boolean;
  notebook: NotebookMetadata | null;
  environment: { digest: Digest; summary: IEnvironmentSummary } | null;
  cells: ICellProvenance[];
  store: { problem: string | null };
}

export interface ILineageNode {
  id: string;
  kind: 'cell' | 'variable';
  label: string;
  cell_index?: number;
  cell_id?: string;
  stale?: boolean;
  /** Variables: which write of the name this is (1, 2, …) and the cell index that wrote it. */
  version?: number;
  written_by?: number;
  type?: string;
  /** A loop variable or a `_name`: hidden unless the user asks for temporaries. */
  temporary?: boolean;
}

export interface ILineageEdge {
  source: string;
  target: string;
  /** cell → variable: the cell defined or changed it; variable → cell: the cell read it. */
  kind: 'writes' | 'reads';
}

/** `POST lineage`. */
export interface ILineage {
  nodes: ILineageNode[];
  edges: ILineageEdge[];
}

export interface IEnvChange {
  key: string;
  old: unknown;
  new: unknown;
}

/** `POST envdiff`: an empty `diff` means the same environment. */
export interface IEnvDiff {
  recorded: Digest | null;
  current: Digest;
  diff: Record<string, IEnvChange[]>;
}

/** One training milestone (`repro_jupyter.checkpoint(name, ...)`) as the panel shows it. */
export interface IMilestone {
  name: string;
  manifest_digest: Digest;
  /** Seconds since the epoch (the catalog's run log). */
  created_at: number;
  cell_key: string | null;
  /** 0-based position of the cell that saved it in the open notebook, when known. */
  cell_index: number | null;
  /** The manifest could not be read: one line, and none of the fields below. */
  error?: string;
  /** The keyword values given to `checkpoint` (epoch, loss, ...). */
  extra?: Record<string, unknown>;
  /** Whether resuming gives the uninterrupted run's batches; null: no data loader was saved. */
  exact_resume?: boolean | null;
  not_exact_because?: string | null;
  /** What it holds: weights, optimizer, scheduler, scaler, loader, probe, rng. */
  parts?: string[];
  size?: number;
  model?: string | null;
  recorded?: boolean;
}

/** `POST milestones`: oldest first; `problem` says why there is no store. */
export interface IMilestones {
  notebook: string;
  milestones: IMilestone[];
  problem: string | null;
}

export interface ICompareOptions {
  rtol?: number;
  atol?: number;
}

/** The handshake. */
export function getInfo(): Promise<IServerInfo> {
  return requestAPI<IServerInfo>('info');
}

/** Per-cell provenance of the open notebook (as it is in the editor, saved or not). */
export function getProvenance(
  path: string,
  notebook: nbformat.INotebookContent
): Promise<IProvenance> {
  return post<IProvenance>('provenance', { path, notebook });
}

/** The cell/variable graph of the open notebook's records. */
export function getLineage(
  path: string,
  notebook: nbformat.INotebookContent
): Promise<ILineage> {
  return post<ILineage>('lineage', { path, notebook });
}

/** What differs between the recorded environment and `current` (a digest the kernel reported). */
export function getEnvDiff(
  path: string,
  notebook: nbformat.INotebookContent,
  current: Digest
): Promise<IEnvDiff> {
  return post<IEnvDiff>('envdiff', { path, notebook, current });
}

/** The training milestones saved for the open notebook. */
export function getMilestones(
  path: string,
  notebook: nbformat.INotebookContent
): Promise<IMilestones> {
  return post<IMilestones>('milestones', { path, notebook });
}

/** Compare a recorded notebook snapshot with the same notebook after re-execution. */
export function compare(
  path: string,
  recorded: nbformat.INotebookContent,
  current: nbformat.INotebookContent,
  options?: ICompareOptions
): Promise<DriftReport> {
  return post<DriftReport>(
    'compare',
    options ? { path, recorded, current, options } : { path, recorded, current }
  );
}

/** One trial as the explain report lists it. */
export type ExplainTrial = ExplainReport['trials'][number];

/** `POST explain` / `explain-status` / `explain-cancel`: one notebook's "Find the cause" job. */
export interface IExplainJob {
  /** null (with state `none`): no job for this notebook yet. */
  job: string | null;
  path?: string;
  state: 'none' | 'running' | 'done' | 'failed' | 'cancelled';
  seconds?: number;
  max_trials?: number;
  /** While running: the trial under way and the most there can be (display text from the server). */
  progress?: { trial: number; bound: number; text: string } | null;
  /** Trials finished so far, in the order they finished. */
  trials?: ExplainTrial[];
  report?: ExplainReport | null;
  /** One line when the job failed (or `cancelled`). */
  error?: string | null;
  /** `POST explain` only: false when the notebook's running job was given back. */
  started?: boolean;
}

export interface IExplainOptions {
  /** Folders (relative to the server root) or URLs of wheels; default: the notebook's pyproject. */
  find_links?: string[];
  index_url?: string;
  max_trials?: number;
}

/** Start "Find the cause" for the saved notebook at `path` (or join the job already running). */
export function startExplain(
  path: string,
  options: IExplainOptions = {}
): Promise<IExplainJob> {
  return post<IExplainJob>('explain', { path, ...options });
}

/** A job's state, by id; by notebook path, its latest job (`state: 'none'` when there is none). */
export function explainStatus(
  which: { job: string } | { path: string }
): Promise<IExplainJob> {
  return post<IExplainJob>('explain-status', which);
}

/** Stop a job (its process and kernels end). */
export function cancelExplain(job: string): Promise<IExplainJob> {
  return post<IExplainJob>('explain-cancel', { job });
}
