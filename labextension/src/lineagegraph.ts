/**
 * Questions asked of the server's lineage graph, answered in words: the
 * 1-based cell names people see, variable versions (`X v2`), the graph without
 * its temporaries, everything upstream and downstream of a node, and the
 * tooltip and caption texts. No layout and no DOM here (lineagelayout.ts
 * places the nodes, lineage.ts draws them and handles the selection).
 */
import type { ILineage, ILineageEdge, ILineageNode } from './api';

/** People count cells from 1, as JupyterLab's status bar does (see repro_jupyter/numbering.py). */
export function cellName(index: number | undefined): string {
  return index === undefined ? 'a cell' : `cell ${index + 1}`;
}

/** How many versions each variable name has in the graph. */
export function versionCounts(graph: ILineage): Map<string, number> {
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

/** The tooltip of an edge: "cell 2 writes x v2", "cell 3 reads x v2 (written by cell 2)". */
export function edgeWords(graph: ILineage, edge: ILineageEdge): string {
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

/** The caption for a selection: the question people ask, answered from the graph. */
export function caption(graph: ILineage, id: string | null): string {
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
