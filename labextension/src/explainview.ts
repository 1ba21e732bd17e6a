/**
 * "Find the cause" in the drift view: asks the server to prove what made the
 * notebook drift by re-running it with factors put back as recorded
 * (`jupyter repro explain`), shows the job's progress (Cancel) and its
 * conclusion, a "proven" badge apart from the heuristic "likely" causes, and
 * the trials table.
 *
 * The job itself, one per notebook and shared by its drift views, is
 * explainjob.ts's `ExplainSession` (explain always explains the *first*
 * drifting cell). Nothing is judged here: texts and results are the server's.
 */
import type { NotebookPanel } from '@jupyterlab/notebook';
import type { Cell } from '@jupyterlab/cells';
import type { ExplainTrial, IExplainJob } from './api';
import { button, h, note } from './dom';
import {
  isReexecuting,
  panelOf,
  reexecutingStateChanged,
  sessionFor,
  type ExplainSession
} from './explainjob';
import { cellName } from './lineagegraph';
import type { ExplainReport } from './schema';

export const EXPLAIN_CLASS = 'jp-repro-explain';

/** Readable names of the trial kinds of the schema. */
export const TRIAL_LABELS: Record<ExplainTrial['kind'], string> = {
  verify: 'verify (as it is now)',
  same_seed_again: 'the same seed again',
  packages: 'packages put back',
  threads: 'thread settings put back',
  hashseed: 'PYTHONHASHSEED put back'
};

const STATUS_BADGES: Record<
  ExplainReport['status'],
  { text: string; title: string }
> = {
  proven: {
    text: 'proven',
    title:
      'A trial showed it: with this put back as recorded the cell reproduces, without it drifts'
  },
  not_proven: {
    text: 'not proven',
    title:
      'No trial made the drift go away; the likely causes above remain guesses'
  },
  no_drift: {
    text: 'no drift',
    title: 'The saved notebook reproduced when explain verified it'
  }
};
function trialsTable(trials: ExplainTrial[]): HTMLElement {
  const body = h('tbody', {});
  trials.forEach((trial, i) => {
    const env = trial.environment;
    const envNote = env
      ? `trial environment ${env.digest.split(':').pop()?.slice(0, 12)}${env.reused ? ' (cached)' : ''}: ${env.pins.join(', ')}`
      : "the kernel's own environment";
    body.appendChild(
      h(
        'tr',
        {
          class: `jp-repro-explain-trial jp-repro-explain-trial-${trial.kind}`,
          title: envNote
        },
        h('td', { class: 'jp-repro-explain-n' }, String(i + 1)),
        h('td', {}, TRIAL_LABELS[trial.kind] ?? trial.kind),
        h(
          'td',
          { class: 'jp-repro-explain-putback' },
          (trial.put_back.join('; ') || '—') +
            (trial.from_cell === undefined
              ? ''
              : ` (from the checkpoint of ${cellName(trial.from_cell)})`)
        ),
        h(
          'td',
          {},
          h(
            'span',
            {
              class: `jp-repro-explain-result jp-repro-explain-result-${trial.result}`,
              title: trial.detail
            },
            trial.result
          )
        ),
        h(
          'td',
          { class: 'jp-repro-explain-seconds' },
          `${trial.seconds.toFixed(1)} s`
        )
      )
    );
  });
  return h(
    'table',
    { class: 'jp-repro-explain-trials' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', {}, '#'),
        h('th', {}, 'trial'),
        h('th', {}, 'put back as recorded'),
        h('th', {}, 'result'),
        h('th', {}, 'time')
      )
    ),
    body
  );
}

function renderReport(report: ExplainReport, cellIndex: number): HTMLElement {
  const badge = STATUS_BADGES[report.status];
  const node = h(
    'div',
    { class: `jp-repro-explain-report jp-repro-explain-${report.status}` },
    h(
      'div',
      { class: 'jp-repro-explain-conclusion' },
      h(
        'span',
        {
          class: `jp-repro-explain-badge jp-repro-explain-badge-${report.status}`,
          title: badge.title
        },
        badge.text
      ),
      ' ',
      h('span', { class: 'jp-repro-explain-text' }, report.conclusion)
    )
  );
  const first = report.first_drift;
  if (first && first.index !== cellIndex) {
    node.appendChild(
      h(
        'div',
        { class: 'jp-repro-explain-where' },
        `Explain re-runs up to the first drifting cell, cell ${first.index + 1}; this cell comes after it.`
      )
    );
  }
  node.appendChild(trialsTable(report.trials));
  const notes = report.notes ?? [];
  if (notes.length) {
    const list = h('ul', { class: 'jp-repro-explain-notes' });
    for (const line of notes) {
      list.appendChild(h('li', {}, line));
    }
    node.appendChild(list);
  }
  return node;
}

/**
 * The "Find the cause" section of one drift view; re-renders whenever the
 * notebook's session changes. `dispose` stops listening.
 */
export class ExplainSection {
  constructor(
    cell: Cell,
    private readonly _cellIndex: number
  ) {
    this.node = h('div', { class: EXPLAIN_CLASS });
    this._panel = panelOf(cell);
    const path = this._panel?.context.path ?? null;
    this._session = path ? sessionFor(path) : null;
    this._session?.changed.connect(this._render, this);
    reexecutingStateChanged.connect(this._onReexecuting, this);
    this._render();
    void this._session?.attach();
  }

  readonly node: HTMLElement;

  dispose(): void {
    this._session?.changed.disconnect(this._render, this);
    reexecutingStateChanged.disconnect(this._onReexecuting, this);
  }

  private _onReexecuting(_: unknown, panel: NotebookPanel): void {
    if (panel === this._panel) {
      this._render();
    }
  }

  private _render(): void {
    const session = this._session;
    const state = session?.state ?? { job: null, starting: false, error: null };
    const job = state.job;
    const running = session?.running ?? false;
    const blocked = this._panel !== null && isReexecuting(this._panel);
    let why =
      'Re-run the saved notebook with what changed put back as it was recorded, one set at a time, to prove which change makes this drift (takes minutes)';
    if (!session) {
      why = 'This cell is not in an open notebook';
    } else if (blocked) {
      why = 'Wait until the re-execution has finished';
    } else if (running) {
      why = 'Finding the cause: the trials are running';
    }
    const label =
      job && job.state !== 'running'
        ? 'Find the cause again'
        : 'Find the cause';
    const start = button(label, () => void session?.start(this._panel), {
      class: 'jp-Button jp-mod-styled jp-repro-explain-start',
      title: why
    });
    start.disabled = !session || running || blocked;
    const head = h(
      'div',
      { class: 'jp-repro-explain-head' },
      h(
        'span',
        { class: 'jp-repro-subtitle' },
        'Cause, proven by re-execution'
      ),
      h('span', { class: 'jp-repro-explain-actions' }, start)
    );
    const children: HTMLElement[] = [head];
    if (state.starting) {
      children.push(this._progress('Starting…', null));
    } else if (job?.state === 'running') {
      children.push(this._progress(job.progress?.text ?? 'Starting…', job));
    }
    if (state.error) {
      children.push(note(state.error, 'error'));
    }
    if (job?.state === 'failed' && job.error) {
      children.push(note(`Could not find the cause: ${job.error}`, 'error'));
    } else if (job?.state === 'cancelled') {
      children.push(note('Cancelled; nothing was changed.', 'info'));
    } else if (job?.state === 'done' && job.report) {
      children.push(renderReport(job.report, this._cellIndex));
    }
    this.node.replaceChildren(...children);
  }

  private _progress(text: string, job: IExplainJob | null): HTMLElement {
    const seconds =
      job?.seconds !== undefined ? ` · ${Math.round(job.seconds)} s` : '';
    return h(
      'div',
      { class: 'jp-repro-explain-progress', role: 'status' },
      h('span', { class: 'jp-repro-explain-spinner', 'aria-hidden': 'true' }),
      h('span', { class: 'jp-repro-explain-progress-text' }, text),
      h('span', { class: 'jp-repro-explain-elapsed' }, seconds),
      job
        ? button('Cancel', () => void this._session?.cancel(), {
            class:
              'jp-Button jp-mod-styled jp-mod-reject jp-repro-explain-cancel',
            title: 'Stop the trials (their kernels end; nothing was written)'
          })
        : null
    );
  }

  private readonly _panel: NotebookPanel | null;
  private readonly _session: ExplainSession | null;
}
