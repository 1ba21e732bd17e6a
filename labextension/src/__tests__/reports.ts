/**
 * Drift reports shaped as the server sends them, for the specs that read
 * them (report.spec.ts, summary.spec.ts). Not a spec itself.
 */
import type { Cause, CellComparison, DriftReport } from '../schema';

export type Status = CellComparison['status'];

export const STATUSES: Status[] = [
  'same',
  'benign',
  'within_tolerance',
  'unverified',
  'drift',
  'error',
  'skipped'
];

export function comparison(
  status: Status,
  patch: Partial<CellComparison> = {}
): CellComparison {
  return { index: 0, id: null, status, differences: [], causes: [], ...patch };
}

/** A report as the server sends it: the test gives its status and summary. */
export function report(
  cells: CellComparison[],
  patch: Partial<DriftReport> = {}
): DriftReport {
  return {
    schema_version: 1,
    kind: 'drift_report',
    notebook: 'n.ipynb',
    status: 'reproduced',
    first_drift: null,
    cells,
    ...patch
  };
}

/** The server's summary: every status, zero unless given. */
export function summary(
  counts: Partial<Record<Status, number>>
): DriftReport['summary'] {
  const out: Record<string, number> = {};
  for (const s of STATUSES) {
    out[s] = counts[s] ?? 0;
  }
  return out;
}

export function cause(kind: Cause['kind'], score: number, detail = ''): Cause {
  return { kind, score, detail };
}
