/** Test-only: pouchdb-selector-core as the reference implementation. */
import selectorCore from 'pouchdb-selector-core';

interface Core {
  matchesSelector(doc: unknown, selector: unknown): boolean;
  filterInMemoryFields(rows: Array<{ doc: unknown }>, req: { selector: unknown; sort?: unknown[] }, fields: string[]): Array<{ doc: Record<string, unknown> }>;
}
const core = selectorCore as unknown as Core;

/**
 * Does PouchDB match `doc`? A top-level $and is split into separate matches
 * (PouchDB's lossy $and merge is a documented divergence); 'throws' when
 * PouchDB itself fails on this input.
 */
export function refMatch(doc: Record<string, unknown>, selector: Record<string, unknown>): boolean | 'throws' {
  const { $and, ...rest } = selector;
  try {
    if (!core.matchesSelector(doc, rest)) return false;
  } catch {
    return 'throws';
  }
  if (Array.isArray($and)) {
    for (const s of $and) {
      const r = refMatch(doc, s as Record<string, unknown>);
      if (r !== true) return r;
    }
  }
  return true;
}

/** PouchDB's in-memory sort (createFieldSorter): missing fields as null, ties by _id, desc reverses. */
export function refSort(docs: Array<Record<string, unknown>>, sort: Array<Record<string, 'asc' | 'desc'>>): Array<Record<string, unknown>> {
  return core.filterInMemoryFields(docs.map((doc) => ({ doc })), { selector: {}, sort }, []).map((r) => r.doc);
}
