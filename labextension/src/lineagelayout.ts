/**
 * The lineage graph placed in layers with dagre: cells and the variables they
 * write flow top to bottom, cells in notebook order, labels cut to fit the
 * panel's width (the drawing is scaled down, never scrolled sideways). Pure
 * geometry: lineage.ts turns it into SVG.
 */
import * as dagre from '@dagrejs/dagre';
import type { ILineage, ILineageEdge, ILineageNode } from './api';
import { ellipsis } from './dom';
import { variableName, versionCounts } from './lineagegraph';

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
