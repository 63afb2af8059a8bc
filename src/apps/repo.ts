/**
 * Reading installed apps from an instance's DocStore (the convention of ./types.ts). Writes
 * belong to the installer; the serving side, intents and the routes read through here.
 */
import { NotFound } from '../common/errors.js';
import type { Doc, DocStore } from '../data/store.js';
import { KIND, type AppDoc, type AppKind } from './types.js';

/** The stored document of an installed app, or null. */
export async function findApp(store: DocStore, kind: AppKind, slug: string): Promise<AppDoc | null> {
  const { doctype } = KIND[kind];
  try {
    return (await store.get(doctype, `${doctype}/${slug}`)) as unknown as AppDoc;
  } catch (e) {
    if (e instanceof NotFound) return null;
    throw e;
  }
}

/** Installed apps of a kind in slug order, `limit` at most, from `startSlug` (inclusive). */
export async function listApps(store: DocStore, kind: AppKind, opts: { limit: number; startSlug?: string }): Promise<AppDoc[]> {
  const { doctype } = KIND[kind];
  const result = await store.allDocs(doctype, {
    include_docs: true, skipDesign: true, limit: opts.limit,
    startkey: `${doctype}/${opts.startSlug ?? ''}`, endkey: `${doctype}/\uffff`,
  }).catch((e: unknown) => {
    if (e instanceof NotFound) return { rows: [] as Array<{ doc?: Doc | null }> };
    throw e;
  });
  return result.rows.flatMap((row) => (row.doc ? [row.doc as unknown as AppDoc] : []));
}

/** Every installed app of a kind, one page (`page` docs at most) at a time, in slug order. */
export async function* appPages(store: DocStore, kind: AppKind, page = 200): AsyncGenerator<AppDoc[]> {
  for (let start: string | undefined = ''; start !== undefined;) {
    const docs = await listApps(store, kind, { limit: page + 1, startSlug: start });
    start = docs.length > page ? docs[page]!.slug : undefined;
    yield docs.slice(0, page);
  }
}
