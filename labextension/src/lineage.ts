/**
 * The lineage graph as inline SVG, laid out here (no graph library): code
 * cells in the left column in notebook order, variables in the right column
 * next to the first cell that touches them, edges as curves between the two.
 *
 * The graph itself (which cell wrote or read which variable, which cell is
 * stale) comes from the server; this module only places and draws it.
 */
import { ellipsis, s } from './dom';
import type { ILineage, ILineageEdge, ILineageNode } from './api';

/** Geometry of the drawing, in CSS pixels (drawn 1:1, at the panel's width). */
export const LINEAGE_GEOMETRY = {
  defaultWidth: 260,
  minWidth: 200,
  row: 26,
  nodeHeight: 20,
  pad: 6,
  cellX: 1,
  /** Share of the width for the cell column and the variable column (the rest is for edges). */
  cellShare: 0.5,
  varShare: 0.32,
  charWidth: 6.6
};

export interface IPlacedNode {
  node: ILineageNode;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface IPlacedEdge {
  edge: ILineageEdge;
  d: string;
}

export interface ILineageLayout {
  width: number;
  height: number;
  nodes: IPlacedNode[];
  edges: IPlacedEdge[];
}

function byIndexThenLabel(a: ILineageNode, b: ILineageNode): number {
  const ai = a.cell_index ?? Number.MAX_SAFE_INTEGER;
  const bi = b.cell_index ?? Number.MAX_SAFE_INTEGER;
  return ai - bi || a.label.localeCompare(b.label);
}

/**
 * Place the nodes: cells by index; each variable at the row of the first cell
 * that writes (else reads) it, pushed down when rows collide.
 */
export function layoutLineage(
  graph: ILineage,
  width: number = LINEAGE_GEOMETRY.defaultWidth
): ILineageLayout {
  const g = LINEAGE_GEOMETRY;
  width = Math.max(g.minWidth, Math.floor(width));
  const cellWidth = Math.round(width * g.cellShare);
  const varWidth = Math.round(width * g.varShare);
  const cells = graph.nodes.filter(n => n.kind === 'cell').sort(byIndexThenLabel);
  const cellRow = new Map<string, number>();
  cells.forEach((n, i) => cellRow.set(n.id, i));

  const anchor = new Map<string, number>();
  for (const edge of graph.edges) {
    const [cell, variable] =
      edge.kind === 'writes' ? [edge.source, edge.target] : [edge.target, edge.source];
    const row = cellRow.get(cell);
    if (row === undefined) {
      continue;
    }
    // writes anchor before reads: a variable sits next to its definition.
    const key = edge.kind === 'writes' ? row : row + 0.5;
    anchor.set(variable, Math.min(anchor.get(variable) ?? Infinity, key));
  }
  const variables = graph.nodes
    .filter(n => n.kind === 'variable')
    .sort(
      (a, b) =>
        (anchor.get(a.id) ?? Infinity) - (anchor.get(b.id) ?? Infinity) ||
        a.label.localeCompare(b.label)
    );

  const placed = new Map<string, IPlacedNode>();
  const top = (row: number): number => g.pad + row * g.row;
  cells.forEach((node, row) =>
    placed.set(node.id, { node, x: g.cellX, y: top(row), width: cellWidth, height: g.nodeHeight })
  );
  let nextFree = 0;
  const varX = width - g.cellX - varWidth;
  for (const node of variables) {
    const wanted = Math.floor(anchor.get(node.id) ?? nextFree);
    const row = Math.max(wanted, nextFree);
    nextFree = row + 1;
    placed.set(node.id, { node, x: varX, y: top(row), width: varWidth, height: g.nodeHeight });
  }
  const rows = Math.max(cells.length, nextFree);

  const edges: IPlacedEdge[] = [];
  for (const edge of graph.edges) {
    const from = placed.get(edge.source);
    const to = placed.get(edge.target);
    if (!from || !to) {
      continue;
    }
    // writes leave a cell a little above its middle, reads arrive a little below,
    // so the two directions between the same pair do not overlap.
    const offset = edge.kind === 'writes' ? -3 : 3;
    const cell = edge.kind === 'writes' ? from : to;
    const variable = edge.kind === 'writes' ? to : from;
    const cx = cell.x + cell.width;
    const cy = cell.y + cell.height / 2 + offset;
    const vx = variable.x;
    const vy = variable.y + variable.height / 2 + offset;
    const bend = (vx - cx) / 2;
    const d =
      edge.kind === 'writes'
        ? `M${cx},${cy} C${cx + bend},${cy} ${vx - bend},${vy} ${vx - 2},${vy}`
        : `M${vx},${vy} C${vx - bend},${vy} ${cx + bend},${cy} ${cx + 2},${cy}`;
    edges.push({ edge, d });
  }
  return { width, height: Math.max(1, rows) * g.row + g.pad, nodes: [...placed.values()], edges };
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

/**
 * Draw `graph` `width` pixels wide; `onCellClick` gets the cell node the
 * user clicked (or activated with Enter/Space).
 */
export function renderLineage(
  graph: ILineage,
  onCellClick: (node: ILineageNode) => void,
  width?: number
): SVGSVGElement {
  const g = LINEAGE_GEOMETRY;
  const layout = layoutLineage(graph, width);
  const uid = `jp-repro-lineage-${++svgCount}`;
  const svg = s('svg', {
    class: 'jp-repro-lineage-svg',
    viewBox: `0 0 ${layout.width} ${layout.height}`,
    width: layout.width,
    height: layout.height,
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
  const edgesOf = new Map<string, SVGPathElement[]>();
  for (const { edge, d } of layout.edges) {
    const path = s('path', {
      d,
      class: `jp-repro-lineage-edge jp-repro-lineage-edge-${edge.kind}`,
      'marker-end': `url(#${uid}-${edge.kind})`,
      'data-source': edge.source,
      'data-target': edge.target
    });
    path.appendChild(s('title', {}, `${edge.source} ${edge.kind} ${edge.target}`));
    edgeGroup.appendChild(path);
    for (const end of [edge.source, edge.target]) {
      edgesOf.set(end, [...(edgesOf.get(end) ?? []), path]);
    }
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
      tabindex: isCell ? 0 : undefined,
      role: isCell ? 'button' : undefined
    });
    const tip = isCell
      ? `${node.label}${node.stale ? '\nstale: the source changed since it was recorded' : ''}\nclick to go to the cell`
      : `variable ${node.label}`;
    group.appendChild(s('title', {}, tip));
    group.appendChild(
      s('rect', { width: placed.width, height: placed.height, rx: isCell ? 3 : placed.height / 2 })
    );
    const maxChars = Math.floor((placed.width - 12) / g.charWidth);
    const label = s('text', {
      x: isCell ? 6 : placed.width / 2,
      y: placed.height / 2,
      'dominant-baseline': 'central'
    });
    if (!isCell) {
      label.setAttribute('text-anchor', 'middle');
    }
    label.textContent = ellipsis(node.label + (node.stale ? ' ⚠' : ''), maxChars);
    group.appendChild(label);

    group.addEventListener('mouseenter', () => {
      svg.classList.add('jp-repro-lineage-focusing');
      group.classList.add('jp-repro-lineage-focus');
      (edgesOf.get(node.id) ?? []).forEach(p => p.classList.add('jp-repro-lineage-focus'));
    });
    group.addEventListener('mouseleave', () => {
      svg.classList.remove('jp-repro-lineage-focusing');
      svg
        .querySelectorAll('.jp-repro-lineage-focus')
        .forEach(el => el.classList.remove('jp-repro-lineage-focus'));
    });
    if (isCell) {
      group.addEventListener('click', () => onCellClick(node));
      group.addEventListener('keydown', (event: KeyboardEvent) => {
        if (event.key === 'Enter' || event.key === ' ') {
          event.preventDefault();
          onCellClick(node);
        }
      });
    }
    nodeGroup.appendChild(group);
  }
  svg.appendChild(nodeGroup);
  return svg;
}
