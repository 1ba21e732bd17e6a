/**
 * The cells the Verify summary must name besides the drifts: a cell that
 * raised (even the recorded error, reproduced) and a cell left out of the
 * comparison for a reason other than being empty or a configuration cell,
 * each with why and a link to it. A serious notice keeps the summary from
 * green (verifysummary.ts decides the colour).
 */
import type * as nbformat from '@jupyterlab/nbformat';
import type { NotebookPanel } from '@jupyterlab/notebook';
import { button, h } from './dom';
import type { CellComparison, DriftReport } from './schema';
import type { NotebookReproState } from './state';

/** Go to a cell of the notebook (by id, else by position). */
export type GoToCell = (
  panel: NotebookPanel,
  index: number,
  id: string | null
) => void;

/** A cell the summary must name: what happened to it, and whether it keeps the summary from green. */
export interface INotice {
  cell: CellComparison;
  text: string;
  /** A recorded error or a cell that could not be compared (not: an empty or tag-skipped cell). */
  serious: boolean;
}

/** "ZeroDivisionError: division by zero" from the cell's outputs as they are now (the recorded ones). */
function errorOutput(
  state: NotebookReproState,
  cell: CellComparison
): string | null {
  const widgets = state.panel.content.widgets;
  const widget =
    widgets.find(w => cell.id !== null && w.model.id === cell.id) ??
    widgets[cell.index];
  const outputs =
    widget?.model.type === 'code' ? widget.model.toJSON().outputs : undefined;
  const error = ((outputs ?? []) as nbformat.IOutput[]).find(
    o => o.output_type === 'error'
  ) as nbformat.IError | undefined;
  if (error) {
    return error.evalue ? `${error.ename}: ${error.evalue}` : error.ename;
  }
  const provenance = state.provenance.data?.cells.find(c =>
    cell.id !== null ? c.id === cell.id : c.index === cell.index
  );
  return provenance?.status === 'error' ? 'an error' : null;
}

/** Cells left out by design, not for want of something to compare: named nowhere, counted nowhere. */
export function skippedQuietly(why: string): boolean {
  return why === 'empty cell' || why.startsWith('configuration cell');
}

/** The cells to name, in notebook order; the `drifted` ones are not (the first drift and its causes say it). */
export function notices(
  state: NotebookReproState,
  report: DriftReport,
  drifted: CellComparison[]
): INotice[] {
  const out: INotice[] = [];
  let raised: CellComparison | null = null;
  for (const cell of report.cells) {
    const name = `Cell ${cell.index + 1}`;
    if (cell.status === 'skipped') {
      const why = cell.differences[0]?.detail ?? 'not compared';
      if (skippedQuietly(why)) {
        continue;
      }
      const tagged = why === 'skipped by tag';
      const after =
        raised && !tagged
          ? ` (it comes after cell ${raised.index + 1}, which raised)`
          : '';
      out.push({
        cell,
        text: tagged
          ? `${name} skipped: ${why}.`
          : `${name} not compared: ${why}${after}.`,
        serious: !tagged
      });
      continue;
    }
    if (drifted.includes(cell)) {
      continue;
    }
    const error = errorOutput(state, cell);
    if (error) {
      raised = raised ?? cell;
      out.push({
        cell,
        text: `${name} raised ${error}, as when it was recorded.`,
        serious: true
      });
    }
  }
  return out;
}

/** "cell 3" or "cells 2, 4 and 7": people count cells from 1, among all cells. */
export function cellList(cells: CellComparison[]): string {
  const numbers = cells.map(c => String(c.index + 1));
  const words =
    numbers.length === 1
      ? numbers[0]
      : `${numbers.slice(0, -1).join(', ')} and ${numbers.slice(-1)}`;
  return `${numbers.length === 1 ? 'cell' : 'cells'} ${words}`;
}

/** The notices as a list, each with a link to its cell. */
export function renderNotices(
  state: NotebookReproState,
  list: INotice[],
  goToCell: GoToCell
): HTMLElement {
  const ul = h('ul', { class: 'jp-repro-notices' });
  for (const notice of list) {
    const go = button(
      `cell ${notice.cell.index + 1}`,
      () => goToCell(state.panel, notice.cell.index, notice.cell.id),
      {
        class: 'jp-repro-link',
        title: 'Go to this cell'
      }
    );
    ul.appendChild(
      h(
        'li',
        {
          class: `jp-repro-notice${notice.serious ? ' jp-repro-notice-serious' : ''}`
        },
        h('span', { class: 'jp-repro-notice-text' }, notice.text),
        ' ',
        go
      )
    );
  }
  return ul;
}
