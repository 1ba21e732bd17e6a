/**
 * Per-cell badges in the notebook: a small round marker in each code cell's
 * prompt column, exactly one per cell (see `setCellBadge`).
 *
 *   jp-repro-badge-recorded    the cell has a record (repro_jupyter metadata)
 *   jp-repro-badge-stale       its source changed since that record
 *   jp-repro-badge-drift       re-execution gave different outputs (or an error)
 *   jp-repro-badge-reproduced  re-execution gave the recorded outputs
 *   jp-repro-badge-unverified  something changed that could not be judged by value (never shown as ✓)
 *
 * Staleness comes from the server's provenance answer, drift from its
 * comparison; a verdict of the last comparison wins over provenance until it
 * is dismissed or accepted, or the cell runs again. Two exceptions keep the
 * badges honest: a stale cell never shows ✓ (or ?) — the code it was verified
 * with is no longer the recorded code — and editing a cell's source drops its
 * ✓ at once (the verdict described other code). Source edits are announced
 * (debounced) through `sourcesEdited`, so the owner can ask the server for
 * staleness again without waiting for a save.
 */
import type { Cell, ICellModel } from '@jupyterlab/cells';
import type { NotebookPanel } from '@jupyterlab/notebook';
import type { IObservableList } from '@jupyterlab/observables';
import { Signal, type ISignal } from '@lumino/signaling';
import type { ICellProvenance } from './api';
import { h } from './dom';

export type BadgeKind = 'recorded' | 'stale' | 'drift' | 'reproduced' | 'unverified';

export interface IBadge {
  kind: BadgeKind;
  /** Tooltip: what the badge means for this cell. */
  title: string;
}

const GLYPH: Record<BadgeKind, string> = {
  recorded: 'R',
  stale: '!',
  drift: '≠',
  reproduced: '✓',
  unverified: '?'
};

const BADGE_CLASS = 'jp-repro-badge';
const HOST_CLASS = 'jp-repro-badge-host';

/** The badge a provenance entry calls for, or null (not recorded). */
export function provenanceBadge(cell: ICellProvenance): IBadge | null {
  if (cell.stale) {
    return {
      kind: 'stale',
      title: 'Stale: the source changed since this cell was recorded. Run it again to record it.'
    };
  }
  if (!cell.recorded) {
    return null;
  }
  const parts = ['Recorded'];
  if (cell.seed !== null) {
    parts.push(`seed ${cell.seed}`);
  }
  if (cell.status === 'error') {
    parts.push('ended with an error');
  }
  if (cell.nondeterministic) {
    parts.push('nondeterministic operations seen');
  }
  if (cell.record?.unseeded.length) {
    parts.push(`unseeded randomness: ${cell.record.unseeded.join(', ')}`);
  }
  let title = parts.join('; ') + '.';
  if (cell.problem) {
    title += `\n${cell.problem}`;
  }
  return { kind: 'recorded', title };
}

/** The one badge node of each cell widget (placement is keyed by cell, never by DOM search). */
const badgeNodes = new WeakMap<Cell, HTMLElement>();

/**
 * Set (or remove, with null) the badge of one cell widget. Idempotent: a
 * cell has at most one badge, hosted on the cell node itself, which exists
 * from the start (a lazily rendered cell gets its input wrapper only later,
 * and a badge placed there would sit beside one placed before). Strays from
 * any earlier placement are removed.
 */
export function setCellBadge(cell: Cell, badge: IBadge | null): void {
  const host = cell.node;
  let node = badgeNodes.get(cell) ?? null;
  host.querySelectorAll(`.${BADGE_CLASS}`).forEach(other => {
    if (other !== node) {
      other.remove();
    }
  });
  if (!badge) {
    node?.remove();
    badgeNodes.delete(cell);
    host.classList.remove(HOST_CLASS);
    return;
  }
  if (!node) {
    node = h('span', { class: BADGE_CLASS, role: 'img' });
    badgeNodes.set(cell, node);
  }
  host.classList.add(HOST_CLASS);
  // Last child of the cell: the cell's layout inserts its widgets by child
  // index, and a foreign node after them keeps those indices right.
  if (node.parentNode !== host || host.lastElementChild !== node) {
    host.appendChild(node);
  }
  node.className = `${BADGE_CLASS} ${BADGE_CLASS}-${badge.kind}`;
  node.textContent = GLYPH[badge.kind];
  node.title = badge.title;
  node.setAttribute('aria-label', badge.title);
  node.dataset.kind = badge.kind;
}

/** Quiet period after the last keystroke before `sourcesEdited` fires. */
export const EDIT_DEBOUNCE_MS = 300;

/** Verdicts that claim the cell is fine: a stale cell must not show them. */
const CLEAN_VERDICTS: ReadonlySet<BadgeKind> = new Set<BadgeKind>(['reproduced', 'unverified']);

/** The badge a cell gets from its verdict and provenance (null: no badge). */
export function chooseBadge(
  verdict: IBadge | undefined,
  provenance: ICellProvenance | undefined
): IBadge | null {
  const fromProvenance = provenance ? provenanceBadge(provenance) : null;
  if (verdict && !(provenance?.stale && CLEAN_VERDICTS.has(verdict.kind))) {
    return verdict;
  }
  return fromProvenance;
}

/** The badges of one notebook: provenance plus the verdicts of the last comparison. */
export class NotebookBadges {
  constructor(readonly panel: NotebookPanel) {
    const model = panel.context.model;
    for (const cell of model.cells) {
      this._watch(cell);
    }
    model.cells.changed.connect(
      (_: unknown, change: IObservableList.IChangedArgs<ICellModel>) =>
        change.newValues.forEach(cell => this._watch(cell)),
      this
    );
    panel.disposed.connect(() => {
      clearTimeout(this._editTimer);
      Signal.clearData(this);
    });
  }

  /** Some cell's source changed (fires once typing pauses for `EDIT_DEBOUNCE_MS`). */
  get sourcesEdited(): ISignal<this, void> {
    return this._sourcesEdited;
  }

  /** Provenance entries by cell id (cells without an id are matched by index). */
  setProvenance(cells: ICellProvenance[]): void {
    this._provenanceById.clear();
    this._provenanceByIndex.clear();
    for (const cell of cells) {
      if (cell.id) {
        this._provenanceById.set(cell.id, cell);
      } else {
        this._provenanceByIndex.set(cell.index, cell);
      }
    }
    this.render();
  }

  /** Verdicts of a comparison, by cell id. */
  setVerdict(cellId: string, badge: IBadge): void {
    this._verdicts.set(cellId, badge);
  }

  /** Forget the comparison verdicts (all, or for the given cell ids). */
  clearVerdicts(cellIds?: Iterable<string>): void {
    if (cellIds) {
      for (const id of cellIds) {
        this._verdicts.delete(id);
      }
    } else {
      this._verdicts.clear();
    }
    this.render();
  }

  /** Redraw every code cell's badge from what is known. */
  render(): void {
    if (this.panel.isDisposed) {
      return;
    }
    this.panel.content.widgets.forEach((cell, index) => {
      if (cell.model.type !== 'code') {
        setCellBadge(cell, null);
        return;
      }
      const verdict = this._verdicts.get(cell.model.id);
      const provenance =
        this._provenanceById.get(cell.model.id) ?? this._provenanceByIndex.get(index);
      setCellBadge(cell, chooseBadge(verdict, provenance));
    });
  }

  private _watch(cell: ICellModel): void {
    if (this._watched.has(cell)) {
      return;
    }
    this._watched.add(cell);
    const id = cell.id;
    cell.sharedModel.changed.connect((_, change) => {
      if (!change.sourceChange || this.panel.isDisposed) {
        return;
      }
      const verdict = this._verdicts.get(id);
      if (verdict && CLEAN_VERDICTS.has(verdict.kind)) {
        this._verdicts.delete(id); // it judged other code
        this.render();
      }
      clearTimeout(this._editTimer);
      this._editTimer = setTimeout(() => this._sourcesEdited.emit(), EDIT_DEBOUNCE_MS);
    }, this);
  }

  private _provenanceById = new Map<string, ICellProvenance>();
  private _provenanceByIndex = new Map<number, ICellProvenance>();
  private _verdicts = new Map<string, IBadge>();
  private _watched = new WeakSet<ICellModel>();
  private _editTimer: ReturnType<typeof setTimeout> | undefined = undefined;
  private _sourcesEdited = new Signal<this, void>(this);
}
