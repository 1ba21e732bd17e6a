/**
 * The lineage view: "where did this variable come from, what does this cell feed?"
 *
 * The graph (which cell wrote which version of which variable, which cells read it,
 * which cell is stale, which variables are loop temporaries) comes from the server;
 * this module lays it out in layers with dagre (cells and the variables they write
 * flow top to bottom), draws it as SVG scaled to the panel's width (no horizontal
 * scrollbar, no nested scrolling), and answers the question in words when a node is
 * selected: its upstream and downstream are highlighted and named, the rest dims.
 * Temporaries (`i`, `idx`, `epoch`, `_x`) are hidden until asked for.
 */
import * as dagre from '@dagrejs/dagre';
import { ellipsis, h, s } from './dom';
import type { ILineage, ILineageEdge, ILineageNode } from './api';

/** Geometry of the drawing, in CSS pixels. */
export const LINEAGE_GEOMETRY = {
  defaultWidth: 260,
  minWidth: 200,
  nodeHeight: 20,
  charWidth: 6.6,
  /** The widest a node gets, as a share of the panel's width (labels are cut, tooltips are whole). */
  maxNodeShare: 0.9,
  nodeSep: 10,
  rankSep: 22,
  margin: 4
};

export interface IPlacedNode {
  node: ILineageNode;
  x: number;
  y: number;
  width: number;
  height: number;
  text: string;
}

export interface IPlacedEdge {
  edge: ILineageEdge;
  d: string;
}

export interface ILineageLayout {
  width: number;
  height: number;
  /** Drawing units per CSS pixel: > 1 when the graph is wider than the panel and is scaled down. */
  scale: number;
  nodes: IPlacedNode[];
  edges: IPlacedEdge[];
}

/** People count cells from 1, as JupyterLab's status bar does (see repro_jupyter/numbering.py). */
export function cellName(index: number | undefined): string {
  return index === undefined ? 'a cell' : `cell ${index + 1}`;
}

/** How many versions each variable name has in the graph. */
function versionCounts(graph: ILineage): Map<string, number> {
  const counts = new Map<string, number>();
  for (const node of graph.nodes) {
    if (node.kind === 'variable') {
      counts.set(
        node.label,
        Math.max(counts.get(node.label) ?? 0, node.version ?? 1)
      );
    }
  }
  return counts;
}

/** `X`, or `X v2` when the notebook rewrites X. */
export function variableName(
  node: ILineageNode,
  counts: Map<string, number>
): string {
  return (counts.get(node.label) ?? 1) > 1
    ? `${node.label} v${node.version ?? 1}`
    : node.label;
}

/** The graph without temporaries (and the edges that touch them) unless `showTemporaries`. */
export function visibleGraph(
  graph: ILineage,
  showTemporaries: boolean
): ILineage {
  if (showTemporaries) {
    return graph;
  }
  const hidden = new Set(graph.nodes.filter(n => n.temporary).map(n => n.id));
  return {
    nodes: graph.nodes.filter(n => !hidden.has(n.id)),
    edges: graph.edges.filter(
      e => !hidden.has(e.source) && !hidden.has(e.target)
    )
  };
}

function pathOf(points: { x: number; y: number }[]): string {
  if (points.length < 2) {
    return '';
  }
  const [first, ...rest] = points;
  let d = `M${first.x},${first.y}`;
  if (rest.length === 1) {
    return `${d} L${rest[0].x},${rest[0].y}`;
  }
  // a smooth curve through dagre's bend points: quadratic pieces between midpoints
  for (let i = 0; i < rest.length - 1; i++) {
    const mid = {
      x: (rest[i].x + rest[i + 1].x) / 2,
      y: (rest[i].y + rest[i + 1].y) / 2
    };
    d += ` Q${rest[i].x},${rest[i].y} ${mid.x},${mid.y}`;
  }
  const last = rest[rest.length - 1];
  return `${d} L${last.x},${last.y}`;
}

/** Place the nodes in layers (dagre), `width` CSS pixels wide. */
export function layoutLineage(
  graph: ILineage,
  width: number = LINEAGE_GEOMETRY.defaultWidth
): ILineageLayout {
  const geo = LINEAGE_GEOMETRY;
  width = Math.max(geo.minWidth, Math.floor(width));
  const counts = versionCounts(graph);
  const maxChars = Math.floor((width * geo.maxNodeShare - 14) / geo.charWidth);
  const g = new dagre.graphlib.Graph({ multigraph: true });
  g.setGraph({
    rankdir: 'TB',
    nodesep: geo.nodeSep,
    ranksep: geo.rankSep,
    marginx: geo.margin,
    marginy: geo.margin
  });
  g.setDefaultEdgeLabel(() => ({}));
  const texts = new Map<string, string>();
  for (const node of graph.nodes) {
    const full = node.kind === 'cell' ? node.label : variableName(node, counts);
    const text = ellipsis(
      full + (node.stale ? ' ⚠' : ''),
      Math.max(6, maxChars)
    );
    texts.set(node.id, text);
    g.setNode(node.id, {
      width: Math.ceil(text.length * geo.charWidth + 14),
      height: geo.nodeHeight
    });
  }
  // cells in notebook order, top to bottom, even where no variable links two of them
  const cells = graph.nodes
    .filter(n => n.kind === 'cell')
    .sort((a, b) => (a.cell_index ?? 0) - (b.cell_index ?? 0));
  for (let i = 1; i < cells.length; i++) {
    g.setEdge(cells[i - 1].id, cells[i].id, { weight: 0, minlen: 1 }, 'order');
  }
  graph.edges.forEach((edge, i) =>
    g.setEdge(edge.source, edge.target, { weight: 2 }, `e${i}`)
  );
  dagre.layout(g);

  const nodes: IPlacedNode[] = graph.nodes.map(node => {
    const placed = g.node(node.id);
    return {
      node,
      x: placed.x - placed.width / 2,
      y: placed.y - placed.height / 2,
      width: placed.width,
      height: placed.height,
      text: texts.get(node.id) ?? node.label
    };
  });
  const edges: IPlacedEdge[] = graph.edges.map((edge, i) => ({
    edge,
    d: pathOf(g.edge(edge.source, edge.target, `e${i}`)?.points ?? [])
  }));
  const drawn = g.graph();
  const graphWidth = Math.max(1, drawn.width ?? width);
  const graphHeight = Math.max(1, drawn.height ?? geo.nodeHeight);
  return {
    width: graphWidth,
    height: graphHeight,
    scale: Math.max(1, graphWidth / width),
    nodes,
    edges
  };
}

interface INeighbours {
  upstream: Set<string>;
  downstream: Set<string>;
}

/** Everything `id` depends on and everything that depends on it, following the edges. */
export function neighbours(graph: ILineage, id: string): INeighbours {
  const walk = (forward: boolean): Set<string> => {
    const seen = new Set<string>();
    const queue = [id];
    while (queue.length) {
      const at = queue.pop() as string;
      for (const edge of graph.edges) {
        const [from, to] = forward
          ? [edge.source, edge.target]
          : [edge.target, edge.source];
        if (from === at && !seen.has(to) && to !== id) {
          seen.add(to);
          queue.push(to);
        }
      }
    }
    return seen;
  };
  return { upstream: walk(false), downstream: walk(true) };
}

/** Words for a node: what it is, where it came from, what it feeds (the tooltip and the caption). */
export function describe(graph: ILineage, node: ILineageNode): string {
  const byId = new Map(graph.nodes.map(n => [n.id, n]));
  const counts = versionCounts(graph);
  const name = (n: ILineageNode): string =>
    n.kind === 'cell' ? cellName(n.cell_index) : variableName(n, counts);
  const list = (ids: string[]): string =>
    ids
      .map(id => byId.get(id))
      .filter((n): n is ILineageNode => !!n)
      .map(name)
      .join(', ');
  const into = graph.edges.filter(e => e.target === node.id).map(e => e.source);
  const out = graph.edges.filter(e => e.source === node.id).map(e => e.target);
  if (node.kind === 'cell') {
    const lines = [node.label];
    if (into.length) {
      lines.push(`reads ${list(into)}`);
    }
    if (out.length) {
      lines.push(`writes ${list(out)}`);
    }
    if (node.stale) {
      lines.push('stale: its source changed since it was recorded');
    }
    return lines.join('\n');
  }
  const total = counts.get(node.label) ?? 1;
  const lines = [
    `${node.label}` +
      (total > 1 ? `, version ${node.version ?? 1} of ${total}` : '') +
      (node.type ? ` (${node.type})` : ''),
    `written by ${into.length ? list(into) : cellName(node.written_by)}`,
    out.length ? `read by ${list(out)}` : 'read by no later recorded cell'
  ];
  if (node.temporary) {
    lines.push('a temporary (loop variable or _name)');
  }
  return lines.join('\n');
}

function edgeWords(graph: ILineage, edge: ILineageEdge): string {
  const byId = new Map(graph.nodes.map(n => [n.id, n]));
  const counts = versionCounts(graph);
  const source = byId.get(edge.source);
  const target = byId.get(edge.target);
  if (!source || !target) {
    return edge.kind;
  }
  if (edge.kind === 'writes') {
    return `${cellName(source.cell_index)} writes ${variableName(target, counts)}`;
  }
  return (
    `${cellName(target.cell_index)} reads ${variableName(source, counts)}` +
    ` (written by ${cellName(source.written_by)})`
  );
}

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
      'data-cell-id': node.cell_id,
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

/** The caption for a selection: the question people ask, answered from the graph. */
function caption(graph: ILineage, id: string | null): string {
  const node = graph.nodes.find(n => n.id === id);
  if (!node) {
    return 'Select a cell or a variable to see where it came from and what it feeds.';
  }
  const counts = versionCounts(graph);
  const { upstream, downstream } = neighbours(graph, node.id);
  const names = (ids: Set<string>, kind: 'cell' | 'variable'): string[] =>
    graph.nodes
      .filter(n => ids.has(n.id) && n.kind === kind)
      .sort(
        (a, b) =>
          (a.cell_index ?? a.written_by ?? 0) -
          (b.cell_index ?? b.written_by ?? 0)
      )
      .map(n =>
        kind === 'cell' ? cellName(n.cell_index) : variableName(n, counts)
      );
  const what =
    node.kind === 'cell'
      ? cellName(node.cell_index)
      : variableName(node, counts);
  const from = names(upstream, 'cell');
  const feeds = names(downstream, 'cell');
  const made = names(downstream, 'variable');
  return (
    `${what}: ` +
    (from.length
      ? `comes from ${from.join(', ')}`
      : 'depends on no recorded cell') +
    '; ' +
    (feeds.length || made.length
      ? `feeds ${[...feeds, ...made].join(', ')}`
      : 'feeds nothing recorded after it') +
    '.'
  );
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
