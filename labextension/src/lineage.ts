/**
 * The lineage view: "where did this variable come from, what does this cell feed?"
 *
 * The graph (which cell wrote which version of which variable, which cells read it,
 * which cell is stale, which variables are loop temporaries) comes from the server;
 * lineagelayout.ts places it in layers, this module draws it as SVG scaled to the
 * panel's width (no horizontal scrollbar, no nested scrolling) and handles the
 * selection: the selected node's upstream and downstream are highlighted and named
 * (the words come from lineagegraph.ts), the rest dims. Temporaries (`i`, `idx`,
 * `epoch`, `_x`) are hidden until asked for.
 */
import { h, s } from './dom';
import type { ILineage, ILineageNode } from './api';
import {
  caption,
  describe,
  edgeWords,
  neighbours,
  visibleGraph
} from './lineagegraph';
import { LINEAGE_GEOMETRY, layoutLineage } from './lineagelayout';

function marker(id: string, cls: string): SVGMarkerElement {
  return s(
    'marker',
    {
      id,
      viewBox: '0 0 10 10',
      refX: 9,
      refY: 5,
      markerWidth: 6,
      markerHeight: 6,
      orient: 'auto-start-reverse'
    },
    s('path', { d: 'M0,0 L10,5 L0,10 z', class: cls })
  );
}

let svgCount = 0;

/** The SVG of `graph` (already filtered), `width` CSS pixels wide; `select(id)` on clicks. */
function drawLineage(
  graph: ILineage,
  width: number,
  select: (node: ILineageNode | null) => void
): SVGSVGElement {
  const layout = layoutLineage(graph, width);
  const uid = `jp-repro-lineage-${++svgCount}`;
  const svg = s('svg', {
    class: 'jp-repro-lineage-svg',
    viewBox: `0 0 ${layout.width} ${layout.height}`,
    width: Math.round(layout.width / layout.scale),
    height: Math.round(layout.height / layout.scale),
    role: 'img',
    'aria-label': `Lineage: ${graph.nodes.length} nodes, ${graph.edges.length} edges`
  });
  svg.appendChild(
    s(
      'defs',
      {},
      marker(`${uid}-writes`, 'jp-repro-lineage-arrow-writes'),
      marker(`${uid}-reads`, 'jp-repro-lineage-arrow-reads')
    )
  );
  const edgeGroup = s('g', { class: 'jp-repro-lineage-edges' });
  for (const { edge, d } of layout.edges) {
    const path = s('path', {
      d,
      class: `jp-repro-lineage-edge jp-repro-lineage-edge-${edge.kind}`,
      'marker-end': `url(#${uid}-${edge.kind})`,
      'data-source': edge.source,
      'data-target': edge.target
    });
    path.appendChild(s('title', {}, edgeWords(graph, edge)));
    edgeGroup.appendChild(path);
  }
  svg.appendChild(edgeGroup);

  const nodeGroup = s('g', { class: 'jp-repro-lineage-nodes' });
  for (const placed of layout.nodes) {
    const { node } = placed;
    const isCell = node.kind === 'cell';
    const classes = ['jp-repro-lineage-node', `jp-repro-lineage-${node.kind}`];
    if (node.stale) {
      classes.push('jp-repro-lineage-stale');
    }
    const group = s('g', {
      class: classes.join(' '),
      transform: `translate(${placed.x},${placed.y})`,
      'data-id': node.id,
      'data-cell-index': node.cell_index,
      'data-cell-id': node.cell_id ?? undefined, // the server's null: no attribute, not "null"
      'data-version': node.version,
      'data-label': placed.text,
      tabindex: 0,
      role: 'button'
    });
    const tip =
      describe(graph, node) +
      (isCell ? '\nclick: select and go to the cell' : '\nclick: select');
    group.appendChild(s('title', {}, tip));
    group.appendChild(
      s('rect', {
        width: placed.width,
        height: placed.height,
        rx: isCell ? 3 : placed.height / 2
      })
    );
    const label = s('text', {
      x: placed.width / 2,
      y: placed.height / 2,
      'dominant-baseline': 'central',
      'text-anchor': 'middle'
    });
    label.textContent = placed.text;
    group.appendChild(label);
    const activate = (event: Event): void => {
      event.stopPropagation();
      select(node);
    };
    group.addEventListener('click', activate);
    group.addEventListener('keydown', (event: KeyboardEvent) => {
      if (event.key === 'Enter' || event.key === ' ') {
        event.preventDefault();
        activate(event);
      }
    });
    nodeGroup.appendChild(group);
  }
  svg.appendChild(nodeGroup);
  svg.addEventListener('click', () => select(null));
  return svg;
}

/** Mark the selection, its upstream and its downstream in `svg`; the rest dims. */
function highlight(
  svg: SVGSVGElement,
  graph: ILineage,
  id: string | null
): void {
  const marks = ['selected', 'upstream', 'downstream'].map(
    m => `jp-repro-lineage-${m}`
  );
  svg
    .querySelectorAll(marks.map(m => `.${m}`).join(','))
    .forEach(el => el.classList.remove(...marks));
  svg.classList.toggle('jp-repro-lineage-selecting', id !== null);
  if (id === null) {
    return;
  }
  const { upstream, downstream } = neighbours(graph, id);
  const mark = (nodeId: string, cls: string): void =>
    svg.querySelector(`[data-id="${CSS.escape(nodeId)}"]`)?.classList.add(cls);
  mark(id, marks[0]);
  upstream.forEach(n => mark(n, marks[1]));
  downstream.forEach(n => mark(n, marks[2]));
  svg
    .querySelectorAll<SVGPathElement>('.jp-repro-lineage-edge')
    .forEach(path => {
      const from = path.dataset.source ?? '';
      const to = path.dataset.target ?? '';
      if (
        (upstream.has(from) || from === id) &&
        (upstream.has(to) || to === id)
      ) {
        path.classList.add(marks[1]);
      } else if (
        (downstream.has(to) || to === id) &&
        (downstream.has(from) || from === id)
      ) {
        path.classList.add(marks[2]);
      }
    });
}

/**
 * The lineage view: a "show temporaries" switch, a caption answering "where from, what for"
 * for the selected node, and the drawing `width` pixels wide.  `onCellClick` gets a cell the
 * user selects (to go to it in the notebook).
 */
export function renderLineage(
  graph: ILineage,
  onCellClick: (node: ILineageNode) => void,
  width?: number
): HTMLElement {
  const view = h('div', { class: 'jp-repro-lineage-view' });
  const hidden = graph.nodes.filter(n => n.temporary).length;
  let showTemporaries = false;
  let selected: string | null = null;
  const text = h('div', {
    class: 'jp-repro-lineage-caption',
    'aria-live': 'polite'
  });
  const controls = h('div', { class: 'jp-repro-lineage-controls' });
  if (hidden) {
    const box = h('input', {
      type: 'checkbox',
      class: 'jp-repro-lineage-temporaries'
    });
    box.addEventListener('change', () => {
      showTemporaries = box.checked;
      draw();
    });
    controls.appendChild(
      h(
        'label',
        {},
        box,
        ` show temporaries (${hidden} loop variable${hidden > 1 ? 's' : ''} hidden)`
      )
    );
  }
  let svg: SVGSVGElement | null = null;
  let shown: ILineage = graph;
  const select = (node: ILineageNode | null): void => {
    selected = node ? node.id : null;
    if (svg) {
      highlight(svg, shown, selected);
    }
    text.textContent = caption(shown, selected);
    if (node && node.kind === 'cell') {
      onCellClick(node);
    }
  };
  const draw = (): void => {
    shown = visibleGraph(graph, showTemporaries);
    if (selected && !shown.nodes.some(n => n.id === selected)) {
      selected = null;
    }
    const next = drawLineage(
      shown,
      width ?? LINEAGE_GEOMETRY.defaultWidth,
      select
    );
    if (svg) {
      svg.replaceWith(next);
    } else {
      view.appendChild(next);
    }
    svg = next;
    highlight(svg, shown, selected);
    text.textContent = caption(shown, selected);
  };
  view.append(controls, text);
  draw();
  return view;
}
