/**
 * The inline drift view under a drifted cell's outputs, and the highlight of
 * the cell itself (`jp-repro-drifted`: a red left border).
 *
 * Everything shown comes from the server's `CellComparison`: recorded | new
 * text side by side, numeric deltas, images with their difference heatmap,
 * and the causes as the server ranked them (heuristic: "likely"). Nothing is
 * recomputed here; numbers are only formatted. A drifted cell's view also
 * carries "Find the cause" (explainview.ts), which proves a cause by
 * controlled re-execution and marks it "proven", apart from the likely ones.
 */
import type { Cell } from '@jupyterlab/cells';
import { PanelLayout, Widget } from '@lumino/widgets';
import { button, h } from './dom';
import { ExplainSection } from './explainview';
import type { Cause, CellComparison, Difference } from './schema';

export const DRIFTED_CLASS = 'jp-repro-drifted';
export const DRIFT_VIEW_CLASS = 'jp-repro-drift-view';

/** Readable names of the cause kinds of the schema. */
export const CAUSE_LABELS: Record<Cause['kind'], string> = {
  source_changed: 'code changed',
  data: 'input data changed',
  params: 'parameters changed',
  seed: 'seed changed',
  rng_state: 'random state differs',
  unseeded_randomness: 'unseeded randomness',
  nondeterministic_here: 'nondeterministic operation in this cell',
  nondeterministic_kernel: 'nondeterministic kernel',
  package_change: 'package versions changed',
  python_change: 'Python changed',
  os_change: 'operating system changed',
  cpu_change: 'CPU changed',
  gpu_change: 'GPU changed',
  threads_change: 'thread settings changed',
  env_var_change: 'environment variables changed',
  upstream: 'an upstream cell drifted',
  not_recorded: 'not recorded',
  unknown: 'unknown cause'
};

const STATUS_LABELS: Record<CellComparison['status'], string> = {
  same: 'reproduced',
  benign: 'benign differences only',
  within_tolerance: 'within tolerance',
  unverified: 'unverified (changed, not judged by value)',
  drift: 'drifted',
  error: 'error',
  skipped: 'skipped'
};

export function statusLabel(status: CellComparison['status']): string {
  return STATUS_LABELS[status] ?? status;
}

/** Python's `format(x, '.3g')`: three significant digits, trailing zeros dropped, exponent form outside 1e-4..1e3. */
export function formatG3(x: number): string {
  if (x === 0) {
    return '0';
  }
  const [mantissa, power] = x.toExponential(2).split('e');
  const exp = Number(power);
  const trim = (text: string): string =>
    text.includes('.') ? text.replace(/0+$/, '').replace(/\.$/, '') : text;
  if (exp < -4 || exp >= 3) {
    const digits = String(Math.abs(exp)).padStart(2, '0');
    return `${trim(mantissa)}e${exp < 0 ? '-' : '+'}${digits}`;
  }
  return trim(x.toFixed(Math.max(0, 2 - exp)));
}

/**
 * A relative change for people, by the rule of repro_jupyter/figures.py (both
 * are tested against __tests__/percent_cases.json): at least 0.01% is a
 * percent with three significant digits (`40%`, `33.3%`, `0.123%`), below
 * that float noise shown as the ratio (`1.85e-16`); the sign is kept.
 */
export function formatPercent(fraction: number): string {
  if (!Number.isFinite(fraction)) {
    return String(fraction);
  }
  return Math.abs(fraction) >= 1e-4 || fraction === 0
    ? `${formatG3(fraction * 100)}%`
    : formatG3(fraction);
}

/** `0.25 → 0.35 (rel 40%)`: display formatting only. */
export function formatDelta(delta: Record<string, unknown>): string {
  const show = (v: unknown): string =>
    v === undefined || v === null ? '?' : String(v);
  let text = `${show(delta.old)} → ${show(delta.new)}`;
  const rel = delta.rel;
  if (typeof rel === 'number' && Number.isFinite(rel)) {
    text += ` (rel ${formatPercent(rel)})`;
  } else if (rel !== undefined && rel !== null) {
    text += ` (rel ${String(rel)})`;
  } else if (typeof delta.abs === 'number') {
    text += ` (abs ${delta.abs})`;
  }
  return text;
}

/**
 * A list of the first `limit` causes: "code changed — detail". The server
 * ranks them, most likely first; they are shown in its order.
 */
export function renderCauses(causes: Cause[], limit = 3): HTMLElement {
  const list = h('ol', { class: 'jp-repro-causes' });
  for (const cause of causes.slice(0, limit)) {
    list.appendChild(
      h(
        'li',
        {
          class: `jp-repro-cause jp-repro-cause-${cause.kind}`,
          // the label says it in words; the machine name (as in the JSON report) is for the curious
          title: `${cause.kind} (likelihood ${cause.score})`
        },
        h(
          'span',
          { class: 'jp-repro-cause-label' },
          CAUSE_LABELS[cause.kind] ?? cause.kind
        ),
        cause.detail
          ? h('span', { class: 'jp-repro-cause-detail' }, ` — ${cause.detail}`)
          : null
      )
    );
  }
  return list;
}

function png(data: string | undefined, caption: string): HTMLElement | null {
  if (!data) {
    return null;
  }
  return h(
    'figure',
    { class: 'jp-repro-drift-figure' },
    h('img', { src: `data:image/png;base64,${data}`, alt: caption }),
    h('figcaption', {}, caption)
  );
}

function renderDifference(diff: Difference): HTMLElement {
  const severity = diff.severity ?? 'drift';
  const node = h(
    'div',
    { class: `jp-repro-diff jp-repro-diff-${severity}` },
    h(
      'div',
      { class: 'jp-repro-diff-head' },
      h(
        'span',
        { class: `jp-repro-severity jp-repro-severity-${severity}` },
        severity.replace('_', ' ')
      ),
      ' ',
      h('span', { class: 'jp-repro-diff-detail' }, diff.detail),
      diff.mimetype
        ? h('code', { class: 'jp-repro-diff-mime' }, diff.mimetype)
        : null
    )
  );
  if (diff.old !== undefined || diff.new !== undefined) {
    node.appendChild(
      h(
        'div',
        { class: 'jp-repro-sides' },
        h(
          'div',
          { class: 'jp-repro-side jp-repro-side-old' },
          h('div', { class: 'jp-repro-side-label' }, 'recorded'),
          h('pre', {}, diff.old ?? '')
        ),
        h(
          'div',
          { class: 'jp-repro-side jp-repro-side-new' },
          h('div', { class: 'jp-repro-side-label' }, 'new'),
          h('pre', {}, diff.new ?? '')
        )
      )
    );
  }
  const deltas = diff.numeric?.deltas ?? [];
  if (deltas.length) {
    const list = h('ul', { class: 'jp-repro-deltas' });
    for (const delta of deltas.slice(0, 8)) {
      list.appendChild(h('li', {}, formatDelta(delta)));
    }
    if (deltas.length > 8) {
      list.appendChild(
        h('li', { class: 'jp-repro-more' }, `… ${deltas.length - 8} more`)
      );
    }
    node.appendChild(list);
  }
  const image = diff.image;
  if (image && (image.old_png || image.new_png || image.heatmap_png)) {
    const ssim =
      typeof image.ssim === 'number' ? `SSIM ${image.ssim.toFixed(3)}` : '';
    const threshold =
      typeof image.threshold === 'number'
        ? ` (threshold ${image.threshold})`
        : '';
    node.appendChild(
      h(
        'div',
        { class: 'jp-repro-images' },
        png(image.old_png, 'recorded'),
        png(image.new_png, 'new'),
        png(image.heatmap_png, 'difference')
      )
    );
    if (ssim) {
      node.appendChild(h('div', { class: 'jp-repro-ssim' }, ssim + threshold));
    }
  }
  if (diff.variables?.length) {
    node.appendChild(
      h(
        'div',
        { class: 'jp-repro-diff-vars' },
        `variables: ${diff.variables.join(', ')}`
      )
    );
  }
  return node;
}

export interface IDriftViewActions {
  /** Replace this cell's recorded outputs and metadata with the re-executed ones. */
  accept: () => void;
  /** Keep the recorded outputs; just remove the highlight. */
  dismiss: () => void;
}

/**
 * The drift view of one drifted cell's comparison (highlightCell: the
 * verifier shows it under the cells its report says drifted); with the
 * cell, it also offers "Find the cause".
 */
export class DriftView extends Widget {
  constructor(
    readonly comparison: CellComparison,
    actions: IDriftViewActions,
    cell?: Cell
  ) {
    super();
    this.addClass(DRIFT_VIEW_CLASS);
    const shown = comparison.differences.filter(d => d.severity !== 'benign');
    const differences = shown.length ? shown : comparison.differences;
    this.node.append(
      h(
        'div',
        { class: 'jp-repro-drift-head' },
        h(
          'span',
          { class: 'jp-repro-drift-title' },
          `Re-execution ${statusLabel(comparison.status)}`
        ),
        h(
          'span',
          { class: 'jp-repro-drift-count' },
          `${differences.length} difference${differences.length === 1 ? '' : 's'}`
        ),
        h(
          'span',
          { class: 'jp-repro-drift-actions' },
          button('Accept new outputs', actions.accept, {
            class: 'jp-Button jp-mod-styled jp-mod-accept jp-repro-accept',
            title:
              'Replace the recorded outputs and record of this cell with the re-executed ones'
          }),
          button('Dismiss', actions.dismiss, {
            class: 'jp-Button jp-mod-styled jp-mod-reject jp-repro-dismiss',
            title: 'Keep the recorded outputs and hide this view'
          })
        )
      )
    );
    if (comparison.causes.length) {
      this.node.append(
        h(
          'div',
          { class: 'jp-repro-drift-causes' },
          h(
            'div',
            {
              class: 'jp-repro-subtitle',
              title:
                'Ranked by heuristics from what changed; "Find the cause" proves one'
            },
            'Likely causes (not proven)'
          ),
          renderCauses(comparison.causes)
        )
      );
    }
    if (cell) {
      this._explain = new ExplainSection(cell, comparison.index);
      this.node.append(this._explain.node);
    }
    for (const diff of differences) {
      this.node.append(renderDifference(diff));
    }
  }

  dispose(): void {
    this._explain?.dispose();
    this._explain = null;
    super.dispose();
  }

  private _explain: ExplainSection | null = null;
}

const views = new WeakMap<Cell, DriftView>();

/** How the user resolved a drifted cell of a report. */
export type Resolution = 'accepted' | 'dismissed';

/**
 * Resolutions by comparison object (a report's cells): the panel's summary
 * reads them to say "1 accepted, 1 dismissed" instead of repeating the
 * report's counts. A new report has new objects, so nothing carries over.
 */
const resolutions = new WeakMap<CellComparison, Resolution>();

/** Remember that `comparison` was accepted or dismissed. */
export function markResolved(
  comparison: CellComparison,
  how: Resolution
): void {
  resolutions.set(comparison, how);
}

/** How `comparison` was resolved, if it was. */
export function resolutionOf(
  comparison: CellComparison
): Resolution | undefined {
  return resolutions.get(comparison);
}

/** Mark `cell` as drifted and show `comparison` under its outputs. */
export function highlightCell(
  cell: Cell,
  comparison: CellComparison,
  actions: IDriftViewActions
): DriftView {
  clearHighlight(cell);
  cell.addClass(DRIFTED_CLASS);
  // Record the resolution before acting: the action re-renders the panel.
  const view = new DriftView(
    comparison,
    {
      accept: () => {
        markResolved(comparison, 'accepted');
        actions.accept();
      },
      dismiss: () => {
        markResolved(comparison, 'dismissed');
        actions.dismiss();
      }
    },
    cell
  );
  (cell.layout as PanelLayout).addWidget(view);
  views.set(cell, view);
  return view;
}

/** Remove the highlight and the drift view of `cell`, if any. */
export function clearHighlight(cell: Cell): void {
  cell.removeClass(DRIFTED_CLASS);
  const view = views.get(cell);
  if (view) {
    views.delete(cell);
    view.dispose();
  }
}
