/**
 * The "Reproducibility" side panel. It follows the active notebook and shows
 * five sections: Provenance (with the recorded hyperparameters), What changed
 * (environment), Checkpoints (training milestones saved by
 * `repro_jupyter.checkpoint`), Lineage and Verify (re-execute and compare). It
 * only displays what the server computed.
 */
import type { NotebookPanel } from '@jupyterlab/notebook';
import { Widget } from '@lumino/widgets';
import type { IProvenance } from './api';
import { button, ellipsis, h, note } from './dom';
import { reproIcon } from './icons';
import { renderLineage } from './lineage';
import { CheckpointsSection } from './milestonesview';
import type { ISection, NotebookReproState } from './state';
import { renderVerify } from './verifyview';

export const PANEL_ID = 'repro-jupyter-panel';

export interface IReproPanelOptions {
  /** Start "Re-execute and compare" on a notebook (the command). */
  reexecute: (panel: NotebookPanel) => void;
  /** Activate a notebook and go to one of its cells. */
  goToCell: (panel: NotebookPanel, index: number, id: string | null) => void;
}

type SectionName =
  'provenance' | 'changes' | 'checkpoints' | 'lineage' | 'verify';

const SECTION_TITLES: Record<SectionName, string> = {
  provenance: 'Provenance',
  changes: 'What changed',
  checkpoints: 'Checkpoints',
  lineage: 'Lineage',
  verify: 'Verify'
};

function row(label: string, value: string | Node, title?: string): HTMLElement {
  return h(
    'div',
    { class: 'jp-repro-row', title },
    h('span', { class: 'jp-repro-key' }, label),
    h('span', { class: 'jp-repro-value' }, value)
  );
}

function show(value: unknown): string {
  if (value === null || value === undefined) {
    return '—';
  }
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export class ReproPanel extends Widget {
  constructor(private readonly _options: IReproPanelOptions) {
    super();
    this.id = PANEL_ID;
    this.addClass('jp-repro-panel');
    this.title.icon = reproIcon;
    this.title.caption = 'Reproducibility';
    this._notebookName = h('div', { class: 'jp-repro-notebook' });
    this._handshake = h('div', { class: 'jp-repro-handshake' });
    this.node.append(
      h(
        'header',
        { class: 'jp-repro-header' },
        h('h2', { class: 'jp-repro-title' }, 'Reproducibility'),
        this._notebookName
      ),
      this._handshake
    );
    for (const name of Object.keys(SECTION_TITLES) as SectionName[]) {
      const body = h('div', { class: 'jp-repro-section-body' });
      const section = h(
        'details',
        { class: `jp-repro-section jp-repro-section-${name}`, open: '' },
        h('summary', { class: 'jp-repro-section-title' }, SECTION_TITLES[name]),
        body
      );
      this._bodies[name] = body;
      this.node.append(section);
    }
    this._checkpoints = new CheckpointsSection(
      this._bodies.checkpoints,
      _options.goToCell,
      state => this._state === state
    );
    this.render();
  }

  /** The server handshake result: null when fine, else the message to show. */
  setHandshake(problem: string | null): void {
    this._handshakeProblem = problem;
    this.render();
  }

  /** Follow another notebook (or none). */
  follow(state: NotebookReproState | null): void {
    if (this._state === state) {
      return;
    }
    this._state?.changed.disconnect(this._onChange, this);
    this._state?.verifier.stateChanged.disconnect(this._onChange, this);
    this._state = state;
    state?.changed.connect(this._onChange, this);
    state?.verifier.stateChanged.connect(this._onChange, this);
    this.render();
  }

  get following(): NotebookReproState | null {
    return this._state;
  }

  render(): void {
    const state = this._state;
    this._handshake.replaceChildren(
      ...(this._handshakeProblem
        ? [
            note(
              `Server extension missing or mismatched: ${this._handshakeProblem}`,
              'error'
            )
          ]
        : [])
    );
    this._notebookName.textContent = state
      ? (state.panel.context.path.split('/').pop() ?? '')
      : 'No notebook open';
    this.node.classList.toggle('jp-repro-loading', !!state?.loading);
    if (!state) {
      for (const body of Object.values(this._bodies)) {
        body.replaceChildren(note('Open a notebook to see its records.'));
      }
      return;
    }
    this._bodies.provenance.replaceChildren(...this._renderProvenance(state));
    this._bodies.changes.replaceChildren(...this._renderChanges(state));
    this._checkpoints.render(state);
    this._bodies.lineage.replaceChildren(...this._renderLineage(state));
    this._bodies.verify.replaceChildren(...renderVerify(state, this._options));
  }

  private _onChange(): void {
    const phase = this._state?.verifier.state.phase ?? 'idle';
    this.render();
    if (phase !== this._lastPhase && phase !== 'idle') {
      // A run started or ended: bring its progress or summary into view.
      this._bodies.verify.parentElement?.scrollIntoView({ block: 'nearest' });
    }
    this._lastPhase = phase;
  }

  protected onResize(msg: Widget.ResizeMessage): void {
    super.onResize(msg);
    const width = this._bodies.lineage.clientWidth - 24;
    if (this._state && Math.abs(width - this._lineageWidth) > 8) {
      this._bodies.lineage.replaceChildren(...this._renderLineage(this._state));
    }
  }

  protected onAfterShow(): void {
    this.render(); // widths are known only once visible
  }

  private _renderProvenance(state: NotebookReproState): Node[] {
    const section = state.provenance;
    const data = section.data;
    if (section.error || !data) {
      return [unavailable(section, 'provenance', state.loading)];
    }
    if (!data.recorded) {
      return [
        note(
          'Not recorded yet: run %load_ext repro_jupyter and %repro on in the notebook.'
        )
      ];
    }
    const nodes: Node[] = [];
    const meta = data.notebook;
    nodes.push(row('Master seed', show(meta?.master_seed)));
    nodes.push(row('Deterministic', meta?.deterministic ? 'on' : 'off'));
    nodes.push(row('Cells', this._cellCounts(data)));
    const summary = data.environment?.summary ?? {};
    for (const key of [
      'python',
      'os',
      'cpu',
      'gpu',
      'torch',
      'git',
      'packages',
      'env_vars'
    ]) {
      if (summary[key]) {
        nodes.push(
          row(key === 'env_vars' ? 'env vars' : key, summary[key] as string)
        );
      }
    }
    if (data.environment) {
      nodes.push(
        row(
          'Environment',
          data.environment.digest.replace(/^sha256:/, '').slice(0, 12),
          data.environment.digest
        )
      );
    }
    if (section.note) {
      nodes.push(note(section.note, 'error'));
    }
    for (const cell of data.cells) {
      if (cell.problem) {
        nodes.push(note(`Cell ${cell.index + 1}: ${cell.problem}`, 'error'));
      }
    }
    return [
      h('div', { class: 'jp-repro-rows' }, ...nodes),
      ...this._renderParams(state, data)
    ];
  }

  /** The recorded hyperparameters, cell by cell (literal assignments and `--params` names). */
  private _renderParams(state: NotebookReproState, data: IProvenance): Node[] {
    const table = h('table', { class: 'jp-repro-params' });
    for (const cell of data.cells) {
      const params = Object.entries(cell.record?.params ?? {});
      params.forEach(([name, value], i) => {
        const text = show(value);
        table.appendChild(
          h(
            'tr',
            { class: cell.stale ? 'jp-repro-params-stale' : undefined },
            h(
              'td',
              { class: 'jp-repro-params-cell' },
              i === 0
                ? button(
                    `cell ${cell.index + 1}`,
                    () =>
                      this._options.goToCell(state.panel, cell.index, cell.id),
                    {
                      class: 'jp-repro-link',
                      title: cell.stale
                        ? 'Recorded before the cell was edited: go to the cell'
                        : 'Go to the cell that set these values'
                    }
                  )
                : null
            ),
            h('td', { class: 'jp-repro-params-name' }, name),
            h(
              'td',
              { class: 'jp-repro-params-value', title: text },
              ellipsis(text, 80)
            )
          )
        );
      });
    }
    if (!table.childElementCount) {
      return [];
    }
    return [
      h(
        'div',
        {
          class: 'jp-repro-subtitle',
          title:
            'Values recorded with each cell (literal assignments such as lr = 0.01)'
        },
        'Hyperparameters'
      ),
      table
    ];
  }

  private _cellCounts(data: IProvenance): string {
    const recorded = data.cells.filter(c => c.recorded).length;
    const stale = data.cells.filter(c => c.stale).length;
    let text = `${recorded} of ${data.cells.length} code cells recorded`;
    if (stale) {
      text += `, ${stale} stale`;
    }
    return text;
  }

  private _renderChanges(state: NotebookReproState): Node[] {
    const section = state.envdiff;
    if (!section.data) {
      return [unavailable(section, 'environment diff', state.loading)];
    }
    const sections = Object.entries(section.data.diff).filter(
      ([, changes]) => changes.length
    );
    if (!sections.length) {
      return [note('Same environment as recorded.', 'ok')];
    }
    const nodes: Node[] = [];
    for (const [name, changes] of sections) {
      const table = h('table', { class: 'jp-repro-envdiff' });
      for (const change of changes) {
        table.appendChild(
          h(
            'tr',
            {},
            h('td', { class: 'jp-repro-envdiff-key' }, change.key),
            h('td', { class: 'jp-repro-envdiff-old' }, show(change.old)),
            h('td', { class: 'jp-repro-envdiff-arrow' }, '→'),
            h('td', { class: 'jp-repro-envdiff-new' }, show(change.new))
          )
        );
      }
      nodes.push(
        h(
          'div',
          { class: 'jp-repro-envdiff-section' },
          h('div', { class: 'jp-repro-subtitle' }, name),
          table
        )
      );
    }
    return nodes;
  }

  private _renderLineage(state: NotebookReproState): Node[] {
    const section = state.lineage;
    const graph = section.data;
    if (section.error || !graph) {
      return [unavailable(section, 'lineage', state.loading)];
    }
    if (!graph.nodes.length) {
      return [note('No lineage yet: record some cells.')];
    }
    const body = this._bodies.lineage;
    this._lineageWidth = body.clientWidth > 0 ? body.clientWidth - 24 : 0; // minus the section padding
    const svg = renderLineage(
      graph,
      node => {
        if (node.cell_index !== undefined) {
          this._options.goToCell(
            state.panel,
            node.cell_index,
            node.cell_id ?? null
          );
        }
      },
      this._lineageWidth || undefined
    );
    const legend = h(
      'div',
      { class: 'jp-repro-legend' },
      h('span', { class: 'jp-repro-legend-writes' }, 'writes'),
      h('span', { class: 'jp-repro-legend-reads' }, 'reads'),
      h('span', { class: 'jp-repro-legend-stale' }, 'stale cell')
    );
    return [h('div', { class: 'jp-repro-lineage' }, svg), legend];
  }

  private _state: NotebookReproState | null = null;
  private _lineageWidth = 0;
  private _lastPhase = 'idle';
  private _handshakeProblem: string | null = null;
  private readonly _notebookName: HTMLElement;
  private readonly _handshake: HTMLElement;
  private readonly _bodies = {} as Record<SectionName, HTMLElement>;
  private readonly _checkpoints: CheckpointsSection;
}

/** What a section without data shows: its error or note, else whether it is still loading. */
function unavailable(
  section: ISection<unknown>,
  name: string,
  loading: boolean
): HTMLElement {
  if (section.error) {
    return note(section.note ?? `${name} unavailable`, 'error');
  }
  return note(section.note ?? (loading ? 'Loading…' : 'No data yet.'));
}
