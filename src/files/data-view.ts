/**
 * io.cozy.files and io.cozy.files.versions documents as /data serves them (read-only there): as stored, minus
 * what never leaves the server, the same fields /files and WebDAV never show — the blob key (`internal_vfs_id`),
 * the thumbnails' blob keys and link secret (`internal_thumbnails`), any other `internal_*` field, and WebDAV's
 * dead properties (`dav_props`, served by PROPFIND only). A DataDeps transform (src/data/http/context.ts), so every
 * /data read path applies it: GET by id and open_revs, _all_docs, _normal_docs, _find, _changes, _bulk_get; and
 * these fields cannot be named in a selector or a sort (_find, _explain, _changes?filter=_selector: 400).
 */
import type { DocTransforms } from '../data/http/context.js';
import type { Doc } from '../data/store.js';
import { DEAD_PROPS_FIELD } from './dav/props.js';
import { FILES_DOCTYPE } from './types.js';
import { VERSIONS_DOCTYPE } from './versions.js';

const DOCTYPES = new Set([FILES_DOCTYPE, VERSIONS_DOCTYPE]);

/** Whether a stored field of a file document is internal (never served). */
export const isInternalField = (key: string): boolean => key.startsWith('internal_') || key === DEAD_PROPS_FIELD;

/** A copy of a file or version document without its internal fields (the document itself when it has none). */
export function publicFileDoc(doc: Doc): Doc {
  if (!Object.keys(doc).some(isInternalField)) return doc;
  const out: Doc = {};
  for (const [k, v] of Object.entries(doc)) if (!isInternalField(k)) out[k] = v;
  return out;
}

/** The /data hooks for the files' doctypes: nothing to do on the way in (/data refuses writes to them). */
export const fileDocTransforms: DocTransforms = {
  in: async (_instance, _doctype, doc) => doc,
  out: async (_instance, doctype, doc) => (DOCTYPES.has(doctype) ? publicFileDoc(doc) : doc),
  // a selector or a sort on them would reveal them bit by bit: _find, _explain and _changes refuse them (400)
  hides: (doctype, field) => DOCTYPES.has(doctype) && isInternalField(field),
};
