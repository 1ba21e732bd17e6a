/**
 * The Checkpoints section of the panel: the training milestones that
 * `repro_jupyter.checkpoint(name, model=..., ...)` saved for the notebook
 * (the rows of `jupyter repro checkpoints NB --json`, from the server's
 * `milestones` route): name and keyword values (epoch, loss, ...), the cell
 * that saved it, when, whether resuming from it is exact, and what it holds.
 *
 * The list is asked for once per provenance answer (which follows every cell
 * run and save), so a checkpoint saved by a cell appears when the cell ends.
 */
import type { NotebookPanel } from '@jupyterlab/notebook';
import {
  getMilestones,
  type IMilestone,
  type IMilestones,
  type IProvenance
} from './api';
import { button, h, note } from './dom';
import { takeSnapshot } from './snapshot';
import type { ISection, NotebookReproState } from './state';

/** 1536 -> "1.5 KB". */
export function bytes(n: number): string {
  const units = ['bytes', 'KB', 'MB', 'GB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit ? `${value.toFixed(1)} ${units[unit]}` : `${n} bytes`;
}

function show(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** One notebook's answer, and the provenance answer it was asked after. */
interface IMilestonesSection extends ISection<IMilestones> {
  after: IProvenance | null;
}

type GoToCell = (
  panel: NotebookPanel,
  index: number,
  id: string | null
) => void;

const EXACT_TITLE = {
  yes: 'Resuming from here continues with the same batches and random numbers as the uninterrupted run',
  unknown:
    'No data loader was saved: whether resuming gives the same batches depends on the notebook code'
};

export class CheckpointsSection {
  constructor(
    private readonly _body: HTMLElement,
    private readonly _goToCell: GoToCell,
    /** Whether the panel still shows `state` (a late answer for another notebook is kept, not shown). */
    private readonly _showing: (state: NotebookReproState) => boolean
  ) {}

  /** Redraw for `state`, asking the server again if its provenance changed since the last answer. */
  render(state: NotebookReproState): void {
    let section = this._sections.get(state);
    const provenance = state.provenance.data;
    if (!state.loading && provenance && section?.after !== provenance) {
      section = {
        data: section?.data ?? null,
        note: null,
        error: false,
        after: provenance
      };
      this._sections.set(state, section);
      void this._fetch(state, section);
    }
    this._body.replaceChildren(...this._content(state, section));
  }

  private _content(
    state: NotebookReproState,
    section: IMilestonesSection | undefined
  ): Node[] {
    if (section?.error) {
      return [note(section.note ?? 'checkpoints unavailable', 'error')];
    }
    if (!section?.data) {
      return [note(state.loading || section ? 'Loading…' : 'No data yet.')];
    }
    const rows = section.data.milestones;
    if (!rows.length) {
      return [
        note(
          'No checkpoints yet: call repro_jupyter.checkpoint("name", model=..., optimizer=...) ' +
            'in a training loop to save a milestone you can resume from.'
        )
      ];
    }
    const list = h('ul', { class: 'jp-repro-milestones' });
    for (const row of rows) {
      list.appendChild(this._row(state, row));
    }
    return [list];
  }

  private _row(state: NotebookReproState, row: IMilestone): HTMLElement {
    const extra = Object.entries(row.extra ?? {})
      .map(([k, v]) => `${k} ${show(v)}`)
      .join(', ');
    const when = new Date(row.created_at * 1000);
    const facts: Node[] = [];
    const index = row.cell_index;
    facts.push(
      index !== null
        ? button(
            `cell ${index + 1}`,
            () => this._goToCell(state.panel, index, null),
            {
              class: 'jp-repro-link jp-repro-milestone-cell',
              title: 'Go to the cell that saved this checkpoint'
            }
          )
        : h(
            'span',
            {
              class: 'jp-repro-milestone-cell',
              title:
                'Saved outside a recorded cell (the kernel was not recording)'
            },
            'no recorded cell'
          ),
      h(
        'span',
        { class: 'jp-repro-milestone-when', title: when.toString() },
        when.toLocaleString()
      )
    );
    if (!row.error) {
      const exact =
        row.exact_resume === true
          ? 'yes'
          : row.exact_resume === false
            ? 'no'
            : 'unknown';
      const title =
        exact === 'no'
          ? `Resuming from here is not bit-identical: ${row.not_exact_because ?? 'see the manifest'}`
          : EXACT_TITLE[exact];
      facts.push(
        h(
          'span',
          {
            class: `jp-repro-milestone-exact jp-repro-milestone-exact-${exact}`,
            title
          },
          `exact resume: ${exact === 'unknown' ? 'no loader saved' : exact}`
        ),
        h(
          'span',
          {
            class: 'jp-repro-milestone-parts',
            title: row.model
              ? `Model ${row.model}`
              : 'What this checkpoint holds'
          },
          (row.parts ?? []).join(', ') +
            (row.size ? ` (${bytes(row.size)})` : '')
        )
      );
    }
    const joined = facts.reduce<Node[]>(
      (out, n, i) => out.concat(i ? [document.createTextNode(' · '), n] : [n]),
      []
    );
    return h(
      'li',
      { class: 'jp-repro-milestone', title: `Manifest ${row.manifest_digest}` },
      h(
        'div',
        { class: 'jp-repro-milestone-head' },
        h('span', { class: 'jp-repro-milestone-name' }, row.name),
        extra ? h('span', { class: 'jp-repro-milestone-extra' }, extra) : null
      ),
      h('div', { class: 'jp-repro-milestone-facts' }, ...joined),
      row.error
        ? note(`Cannot read this checkpoint: ${row.error}`, 'error')
        : null
    );
  }

  private async _fetch(
    state: NotebookReproState,
    section: IMilestonesSection
  ): Promise<void> {
    try {
      section.data = await getMilestones(
        state.panel.context.path,
        takeSnapshot(state.panel)
      );
      section.note = null;
      section.error = false;
    } catch (error) {
      section.note = error instanceof Error ? error.message : String(error);
      section.error = true;
    }
    if (this._sections.get(state) === section && this._showing(state)) {
      this._body.replaceChildren(...this._content(state, section));
    }
  }

  private _sections = new WeakMap<NotebookReproState, IMilestonesSection>();
}
