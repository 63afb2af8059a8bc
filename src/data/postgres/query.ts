/** Prepared statements and the rows of the PostgreSQL document engine. */
import { createHash } from 'node:crypto';
import type { QueryConfig } from 'pg';
import type { Doc } from '../store.js';
import type { RevTree } from '../sqlite/revtree.js';
import { jsonbTypes } from './nul.js';

/** One row of d<N>_docs (jsonb columns come back parsed; seq is a bigint, i.e. a string). */
export interface PgDocRow {
  id: string;
  rev: string;
  deleted: boolean;
  seq: string;
  body: Doc;
  tree: RevTree;
}

const names = new Map<string, string>();

/**
 * A named (prepared) statement: each connection parses its text once. Names come from the text (which holds the
 * instance's schema), so the same statement gets the same name on every connection.
 */
export function named(text: string, values: unknown[]): QueryConfig {
  let name = names.get(text);
  if (!name) {
    if (names.size >= 10_000) names.clear();
    name = `h${createHash('sha1').update(text).digest('base64url').slice(0, 22)}`;
    names.set(text, name);
  }
  return { name, text, values, types: jsonbTypes };
}

/** A table or schema that is not there (a doctype dropped by another process, an instance never written). */
export function isMissingRelation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '42P01' || code === '3F000';
}

/** The JSON text of a value for a jsonb parameter (U+0000 escaped: nul.ts). */
export { jsonbText as jsonb } from './nul.js';
