/**
 * Per-cell badges in the notebook: a small round marker in each code cell's
 * prompt column, exactly one per cell (see `setCellBadge`).
 *
 *   jp-repro-badge-recorded    the cell has a record (repro_jupyter metadata)
 *   jp-repro-badge-stale       its source changed since that record
 *   jp-repro-badge-drift       re-execution gave different outputs (or an error)
 *   jp-repro-badge-reproduced  re-execution gave the recorded outputs
 *   jp-repro-badge-unverified  something changed that could not be judged by value (never shown as ✓)
 *   jp-repro-badge-error       the cell raised an error when recorded (never shown as ✓ or R:
 *                              reproducing a traceback is not a clean result)
 *   jp-repro-badge-nondeterministic  the cell drew randomness the master seed does not control, or
 *                              nondeterministic operations were reported: it may differ on any run,
 *                              even after one re-execution happened to match
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

export type BadgeKind =
  | 'recorded'
  | 'stale'
  | 'drift'
  | 'reproduced'
  | 'unverified'
  | 'error'
  | 'nondeterministic';

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
  unverified: '?',
  error: '✕',
  nondeterministic: '~'
};

const BADGE_CLASS = 'jp-repro-badge';
const HOST_CLASS = 'jp-repro-badge-host';

/** "ZeroDivisionError: division by zero", or null when the record says the cell did not raise. */
function recordedError(cell: ICellProvenance): string | null {
  const error = cell.record?.error;
  if (error?.ename) {
    return error.evalue ? `${error.ename}: ${error.evalue}` : error.ename;
  }
  return cell.status === 'error' ? 'an error' : null;
}

/** Why the cell may differ on any run, in words (null: nothing says so). */
function nondeterminism(cell: ICellProvenance): string | null {
  const unseeded = cell.record?.unseeded ?? [];
  const warnings = cell.record?.nondeterminism_warnings ?? [];
  if (unseeded.length) {
    return (
      `it drew randomness the master seed does not control (${unseeded.join(', ')}), ` +
      'so its results can change on every run. Give that generator a seed to make it reproducible.'
    );
  }
  if (warnings.length || cell.nondeterministic) {
    const which = warnings.length
      ? ` (${warnings.slice(0, 2).join('; ')})`
      : '';
    return `nondeterministic operations were reported${which}, so its results can change between runs.`;
  }
  return null;
}

/** The badge a provenance entry calls for, or null (not recorded). */
export function provenanceBadge(cell: ICellProvenance): IBadge | null {
  if (cell.stale) {
    return {
      kind: 'stale',
      title:
        'Stale: the source changed since this cell was recorded. Run it again to record it.'
    };
  }
  if (!cell.recorded) {
    return null;
  }
  const seed = cell.seed !== null ? ` with seed ${cell.seed}` : '';
  const error = recordedError(cell);
  const random = nondeterminism(cell);
  let badge: IBadge;
  if (error) {
    badge = {
      kind: 'error',
      title: `Error: this cell raised ${error} when it was recorded${seed}.`
    };
  } else if (random) {
    badge = { kind: 'nondeterministic', title: `Nondeterministic: ${random}` };
  } else {
    const parts = [`Recorded${seed}`];
    const auto = cell.record?.auto_seeded ?? [];
    if (auto.length) {
      parts.push(
        `generators made without a seed were seeded from the cell seed: ${auto.join(', ')}`
      );
    }
    badge = { kind: 'recorded', title: parts.join('; ') + '.' };
  }
  if (cell.problem) {
    badge.title += `\n${cell.problem}`;
  }
  return badge;
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
const CLEAN_VERDICTS: ReadonlySet<BadgeKind> = new Set<BadgeKind>([
  'reproduced',
  'unverified'
]);

/** Provenance badges that a clean verdict must not hide (the verdict's words are added to them). */
const WARNING_KINDS: ReadonlySet<BadgeKind> = new Set<BadgeKind>([
  'error',
  'nondeterministic'
]);

/** The badge a cell gets from its verdict and provenance (null: no badge). */
export function chooseBadge(
  verdict: IBadge | undefined,
  provenance: ICellProvenance | undefined
): IBadge | null {
  const fromProvenance = provenance ? provenanceBadge(provenance) : null;
  if (verdict && CLEAN_VERDICTS.has(verdict.kind)) {
    if (provenance?.stale) {
      return fromProvenance;
    }
    if (fromProvenance && WARNING_KINDS.has(fromProvenance.kind)) {
      // A reproduced traceback, or unseeded randomness that happened to match, is no ✓.
      const again =
        fromProvenance.kind === 'error'
          ? 'The re-execution gave the recorded outputs (the same error).'
          : 'The last re-execution happened to give the recorded outputs.';
      return {
        kind: fromProvenance.kind,
        title: `${fromProvenance.title}\n${again}`
      };
    }
  }
  if (verdict && provenance && !provenance.recorded) {
    return {
      kind: verdict.kind,
      title: `${verdict.title}\nNot recorded: only the saved outputs were compared.`
    };
  }
  return verdict ?? fromProvenance;
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
        this._provenanceById.get(cell.model.id) ??
        this._provenanceByIndex.get(index);
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
      this._editTimer = setTimeout(
        () => this._sourcesEdited.emit(),
        EDIT_DEBOUNCE_MS
      );
    }, this);
  }

  private _provenanceById = new Map<string, ICellProvenance>();
  private _provenanceByIndex = new Map<number, ICellProvenance>();
  private _verdicts = new Map<string, IBadge>();
  private _watched = new WeakSet<ICellModel>();
  private _editTimer: ReturnType<typeof setTimeout> | undefined = undefined;
  private _sourcesEdited = new Signal<this, void>(this);
}
