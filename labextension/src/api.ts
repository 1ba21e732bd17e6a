/**
 * Typed calls to the repro-jupyter server extension (`/repro-jupyter/*`).
 *
 * The server computes everything (digests, staleness, lineage, comparisons);
 * this module only moves JSON. Errors come back as one line, from the
 * server's `{"message": ...}` body (`ErrorReply`) or from the network layer.
 */
import { URLExt } from '@jupyterlab/coreutils';
import type * as nbformat from '@jupyterlab/nbformat';
import { ServerConnection } from '@jupyterlab/services';
import type {
  CellProvenance,
  CompareReply,
  EnvDiffReply,
  EnvironmentChange,
  EnvironmentSummary,
  ErrorReply,
  ExplainJobReply,
  InfoReply,
  LineageEdge,
  LineageNode,
  LineageReply,
  Milestone,
  MilestonesReply,
  PanelReply,
  ProvenanceReply
} from './messages';
import type { Digest, ExplainReport } from './schema';

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
      data && typeof (data as Partial<ErrorReply>).message === 'string'
        ? (data as ErrorReply).message
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

/*
 * The reply bodies are generated from repro_jupyter/schema/messages.v1.json
 * (messages.ts); tests/test_server_contract.py validates what every route
 * really answers against the same file. The names below are the ones the
 * panel's modules have always imported.
 */

/** `GET info`: the version handshake. */
export type IServerInfo = InfoReply;

/** The environment summary lines the server prepares for display. */
export type IEnvironmentSummary = EnvironmentSummary;

/** One code cell in the provenance answer. */
export type ICellProvenance = CellProvenance;

/** `POST provenance`. */
export type IProvenance = ProvenanceReply;

/** A lineage node (`cell_id` null: a cell without an nbformat id). */
export type ILineageNode = LineageNode;

export type ILineageEdge = LineageEdge;

/** `POST lineage`. */
export type ILineage = LineageReply;

export type IEnvChange = EnvironmentChange;

/** `POST envdiff`: an empty `diff` means the same environment. */
export type IEnvDiff = EnvDiffReply;

/** One training milestone (`repro_jupyter.checkpoint(name, ...)`) as the panel shows it. */
export type IMilestone = Milestone;

/** `POST milestones`: oldest first; `problem` says why there is no store. */
export type IMilestones = MilestonesReply;

export interface ICompareOptions {
  rtol?: number;
  atol?: number;
}

/** The handshake. */
export function getInfo(): Promise<IServerInfo> {
  return requestAPI<IServerInfo>('info');
}

/**
 * One refresh of the side panel (`POST panel`): provenance and lineage of the
 * open notebook as it is in the editor (saved or not), and the environment
 * diff against `current`, the digest the kernel reported (null: it did not).
 * One request, one copy of the notebook on the wire.
 */
export function getPanel(
  path: string,
  notebook: nbformat.INotebookContent,
  current: Digest | null
): Promise<PanelReply> {
  return post<PanelReply>('panel', { path, notebook, current });
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
): Promise<CompareReply> {
  return post<CompareReply>(
    'compare',
    options ? { path, recorded, current, options } : { path, recorded, current }
  );
}

/** One trial as the explain report lists it. */
export type ExplainTrial = ExplainReport['trials'][number];

/** `POST explain` / `explain-status` / `explain-cancel`: one notebook's "Find the cause" job. */
export type IExplainJob = ExplainJobReply;

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
