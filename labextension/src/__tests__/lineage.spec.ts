/**
 * Lineage logic: the 1-based cell names people see (among all cells, markdown
 * included, as JupyterLab's status bar counts them; repro_jupyter/numbering.py
 * says the same on the Python side), variable versions, temporaries, the
 * upstream/downstream walk, the words for a node (stale cells say so) and the
 * layout.
 */
import type { ILineage, ILineageNode } from '../api';
import { renderLineage } from '../lineage';
import {
  cellName,
  describe as describeNode,
  neighbours,
  variableName,
  visibleGraph
} from '../lineagegraph';
import { layoutLineage, LINEAGE_GEOMETRY } from '../lineagelayout';

/**
 * A notebook whose first cell is markdown: code cells sit at indices 1, 2, 3
 * and are "cell 2", "cell 3", "cell 4" to people.
 *   cell 2 writes x v1 and the loop temporary i; cell 3 reads x v1 and writes x v2
 *   (its source changed since it was recorded: stale); cell 4 reads x v2.
 */
function notebookGraph(): ILineage {
  const nodes: ILineageNode[] = [
    {
      id: 'c1',
      kind: 'cell',
      label: 'cell 2: load',
      cell_index: 1,
      cell_id: 'a'
    },
    {
      id: 'c2',
      kind: 'cell',
      label: 'cell 3: scale',
      cell_index: 2,
      cell_id: 'b',
      stale: true
    },
    {
      id: 'c3',
      kind: 'cell',
      label: 'cell 4: report',
      cell_index: 3,
      cell_id: 'c'
    },
    {
      id: 'x1',
      kind: 'variable',
      label: 'x',
      version: 1,
      written_by: 1,
      type: 'ndarray'
    },
    {
      id: 'x2',
      kind: 'variable',
      label: 'x',
      version: 2,
      written_by: 2,
      type: 'ndarray'
    },
    {
      id: 'i1',
      kind: 'variable',
      label: 'i',
      version: 1,
      written_by: 1,
      temporary: true
    }
  ];
  return {
    nodes,
    edges: [
      { source: 'c1', target: 'x1', kind: 'writes' },
      { source: 'c1', target: 'i1', kind: 'writes' },
      { source: 'x1', target: 'c2', kind: 'reads' },
      { source: 'c2', target: 'x2', kind: 'writes' },
      { source: 'x2', target: 'c3', kind: 'reads' }
    ]
  };
}

function node(graph: ILineage, id: string): ILineageNode {
  const found = graph.nodes.find(n => n.id === id);
  if (!found) {
    throw new Error(`no node ${id}`);
  }
  return found;
}

describe('cellName', () => {
  it('counts cells from 1', () => {
    expect(cellName(0)).toBe('cell 1');
    expect(cellName(1)).toBe('cell 2');
    expect(cellName(41)).toBe('cell 42');
  });

  it('says "a cell" when the index is unknown', () => {
    expect(cellName(undefined)).toBe('a cell');
  });
});

describe('variableName', () => {
  const counts = new Map([
    ['x', 2],
    ['df', 1]
  ]);

  it('names a variable written once by its name alone', () => {
    expect(
      variableName(
        { id: 'd', kind: 'variable', label: 'df', version: 1 },
        counts
      )
    ).toBe('df');
  });

  it('adds the version when the notebook rewrites the variable', () => {
    expect(
      variableName(
        { id: 'x', kind: 'variable', label: 'x', version: 2 },
        counts
      )
    ).toBe('x v2');
    expect(
      variableName({ id: 'x', kind: 'variable', label: 'x' }, counts)
    ).toBe('x v1');
  });

  it('treats an unknown name as written once', () => {
    expect(
      variableName(
        { id: 'y', kind: 'variable', label: 'y', version: 3 },
        counts
      )
    ).toBe('y');
  });
});

describe('visibleGraph', () => {
  it('hides temporaries and every edge that touches them', () => {
    const graph = notebookGraph();
    const shown = visibleGraph(graph, false);
    expect(shown.nodes.map(n => n.id)).toEqual(['c1', 'c2', 'c3', 'x1', 'x2']);
    expect(shown.edges.some(e => e.source === 'i1' || e.target === 'i1')).toBe(
      false
    );
    expect(shown.edges).toHaveLength(4);
  });

  it('shows everything when asked, without copying', () => {
    const graph = notebookGraph();
    expect(visibleGraph(graph, true)).toBe(graph);
  });

  it('does not change the graph it filters', () => {
    const graph = notebookGraph();
    visibleGraph(graph, false);
    expect(graph).toEqual(notebookGraph());
  });
});

describe('neighbours', () => {
  it('follows edges both ways, transitively', () => {
    const graph = notebookGraph();
    const { upstream, downstream } = neighbours(graph, 'c2');
    expect([...upstream].sort()).toEqual(['c1', 'x1']);
    expect([...downstream].sort()).toEqual(['c3', 'x2']);
  });

  it('ends on a cycle and never lists the node itself', () => {
    const graph: ILineage = {
      nodes: [
        { id: 'a', kind: 'cell', label: 'a', cell_index: 0 },
        { id: 'v', kind: 'variable', label: 'v' }
      ],
      edges: [
        { source: 'a', target: 'v', kind: 'writes' },
        { source: 'v', target: 'a', kind: 'reads' }
      ]
    };
    const { upstream, downstream } = neighbours(graph, 'a');
    expect([...upstream]).toEqual(['v']);
    expect([...downstream]).toEqual(['v']);
  });

  it('answers empty sets for an unknown id', () => {
    const { upstream, downstream } = neighbours(notebookGraph(), 'nope');
    expect(upstream.size + downstream.size).toBe(0);
  });
});

describe('describe', () => {
  it('says that a stale cell changed since it was recorded', () => {
    const graph = notebookGraph();
    const words = describeNode(graph, node(graph, 'c2'));
    expect(words).toContain('stale: its source changed since it was recorded');
    expect(words).toContain('reads x v1');
    expect(words).toContain('writes x v2');
  });

  it('does not call a cell stale when it is not', () => {
    const graph = notebookGraph();
    expect(describeNode(graph, node(graph, 'c1'))).not.toContain('stale');
  });

  it('names the writer and readers of a variable with 1-based cell numbers', () => {
    const graph = notebookGraph();
    const graphWithoutWriterEdge: ILineage = {
      nodes: graph.nodes,
      edges: graph.edges.filter(e => e.target !== 'x1')
    };
    const words = describeNode(graphWithoutWriterEdge, node(graph, 'x1'));
    expect(words).toContain('x, version 1 of 2 (ndarray)');
    // no edge into x1: the writer comes from written_by (index 1 -> "cell 2")
    expect(words).toContain('written by cell 2');
    expect(words).toContain('read by cell 3');
  });

  it('says when no later cell reads a variable, and flags temporaries', () => {
    const graph = notebookGraph();
    const words = describeNode(graph, node(graph, 'i1'));
    expect(words).toContain('read by no later recorded cell');
    expect(words).toContain('a temporary');
  });
});

describe('layoutLineage', () => {
  it('places every node and edge at finite coordinates', () => {
    const graph = notebookGraph();
    const layout = layoutLineage(graph, 300);
    expect(layout.nodes).toHaveLength(graph.nodes.length);
    expect(layout.edges).toHaveLength(graph.edges.length);
    for (const placed of layout.nodes) {
      for (const value of [placed.x, placed.y, placed.width, placed.height]) {
        expect(Number.isFinite(value)).toBe(true);
      }
    }
    for (const placed of layout.edges) {
      expect(placed.d).toMatch(/^M[\d.-]+,[\d.-]+ /);
    }
    expect(layout.scale).toBeGreaterThanOrEqual(1);
  });

  it('marks a stale cell in its label', () => {
    const graph = notebookGraph();
    const texts = new Map(
      layoutLineage(graph).nodes.map(p => [p.node.id, p.text])
    );
    expect(texts.get('c2')).toBe('cell 3: scale ⚠');
    expect(texts.get('c1')).toBe('cell 2: load');
    expect(texts.get('x2')).toBe('x v2');
  });

  it('keeps cells in notebook order from top to bottom', () => {
    const graph = notebookGraph();
    const y = new Map(layoutLineage(graph).nodes.map(p => [p.node.id, p.y]));
    expect(y.get('c1')!).toBeLessThan(y.get('c2')!);
    expect(y.get('c2')!).toBeLessThan(y.get('c3')!);
  });

  it('cuts long labels to the panel width (never narrower than the minimum)', () => {
    const long = 'cell 1: ' + 'a'.repeat(500);
    const graph: ILineage = {
      nodes: [{ id: 'c', kind: 'cell', label: long, cell_index: 0 }],
      edges: []
    };
    const layout = layoutLineage(graph, 10);
    const [placed] = layout.nodes;
    expect(placed.text.endsWith('…')).toBe(true);
    expect(placed.text.length).toBeLessThan(long.length);
    expect(placed.width).toBeLessThanOrEqual(LINEAGE_GEOMETRY.minWidth);
  });

  it('lays out an empty graph', () => {
    const layout = layoutLineage({ nodes: [], edges: [] });
    expect(layout.nodes).toEqual([]);
    expect(layout.width).toBeGreaterThan(0);
  });
});

describe('renderLineage', () => {
  it('puts labels from the server in as text, never as markup', () => {
    const graph: ILineage = {
      nodes: [
        {
          id: 'c',
          kind: 'cell',
          label: '<img src=x onerror="alert(1)">',
          cell_index: 0
        }
      ],
      edges: []
    };
    const view = renderLineage(graph, () => undefined, 300);
    expect(view.querySelector('img')).toBeNull();
    expect(view.querySelector('text')?.textContent).toContain('<img');
  });

  it('gives a cell without an nbformat id no data-cell-id (the server sends null)', () => {
    const graph: ILineage = {
      nodes: [
        {
          id: 'c',
          kind: 'cell',
          label: 'cell 1',
          cell_index: 0,
          cell_id: null
        },
        { id: 'd', kind: 'cell', label: 'cell 2', cell_index: 1, cell_id: 'b' }
      ],
      edges: []
    };
    const view = renderLineage(graph, () => undefined, 300);
    expect(
      view.querySelector('[data-id="c"]')?.hasAttribute('data-cell-id')
    ).toBe(false);
    expect(
      view.querySelector('[data-id="d"]')?.getAttribute('data-cell-id')
    ).toBe('b');
  });

  it('offers the temporaries switch only when some are hidden', () => {
    const withTemporary = renderLineage(notebookGraph(), () => undefined, 300);
    expect(
      withTemporary.querySelector('.jp-repro-lineage-temporaries')
    ).not.toBeNull();
    expect(withTemporary.querySelectorAll('[data-id="i1"]')).toHaveLength(0);
    const without = visibleGraph(notebookGraph(), false);
    expect(
      renderLineage(without, () => undefined, 300).querySelector(
        '.jp-repro-lineage-temporaries'
      )
    ).toBeNull();
  });
});
