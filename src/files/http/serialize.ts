/**
 * io.cozy.files documents as cozy-stack serves them (JSON-API): `{type, id, meta:{rev}, attributes,
 * relationships, links}`. The attributes are the stored fields (size as a string, base64 md5sum,
 * `path` on directories) minus what never leaves the server (`internal_vfs_id`, `internal_thumbnails`) and what goes in the
 * relationships; an image with thumbnails of its content has `links.tiny|small|medium|large`. A directory read on its own carries a page of its contents.
 */
import type { Doc } from '../../data/store.js';
import { thumbLinks } from '../thumbnails/state.js';
import { FILES_DOCTYPE, ROOT_DIR_ID, isDir, type FileDoc } from '../types.js';
import { VERSIONS_DOCTYPE, type VersionDoc } from '../versions.js';

export const JSONAPI = 'application/vnd.api+json';

/** Stored fields that are not attributes: CouchDB's own, the blob key, the relationships. */
const HIDDEN = new Set(['_id', '_rev', '_deleted', '_attachments', '_revisions', '_conflicts', 'internal_vfs_id', 'internal_thumbnails', 'referenced_by', 'not_synchronized_on', 'dav_props']);

export interface Resource {
  type: typeof FILES_DOCTYPE;
  id: string;
  meta: { rev: string };
  attributes: Doc;
  relationships: Record<string, unknown>;
  links: Record<string, string>;
}

/** One page of a directory's children, as GET /files/:id shows it. */
export interface ContentsPage {
  docs: FileDoc[];
  count: number;
  /** The query string of the next page (`page[cursor]=…`), or null on the last page. */
  next: string | null;
}

const ref = (id: string) => ({ type: FILES_DOCTYPE, id });

export function resource(doc: FileDoc): Resource {
  const attributes: Doc = {};
  for (const [k, v] of Object.entries(doc)) if (!HIDDEN.has(k)) attributes[k] = v;
  if (attributes.dir_id === '') delete attributes.dir_id; // the root has no parent
  const relationships: Record<string, unknown> = {};
  if (doc._id !== ROOT_DIR_ID && doc.dir_id) relationships.parent = { links: { related: `/files/${doc.dir_id}` }, data: ref(doc.dir_id) };
  if (Array.isArray(doc.referenced_by)) {
    relationships.referenced_by = { links: { self: `/files/${doc._id}/relationships/references` }, data: doc.referenced_by };
  }
  if (isDir(doc) && Array.isArray(doc.not_synchronized_on)) {
    relationships.not_synchronized_on = { links: { self: `/files/${doc._id}/relationships/not_synchronized_on` }, data: doc.not_synchronized_on };
  }
  const links: Record<string, string> = { self: `/files/${doc._id}` };
  if (!isDir(doc)) Object.assign(links, { related: `/files/download/${doc._id}` }, thumbLinks(doc));
  return { type: FILES_DOCTYPE, id: doc._id, meta: { rev: doc._rev }, attributes, relationships, links };
}

/** `{data, included, links}` for a directory and one page of its contents (GET /files/:id). */
export function dirDocument(dir: FileDoc, page: ContentsPage): Record<string, unknown> {
  const data = resource(dir);
  const contents: Record<string, unknown> = {
    meta: { count: page.count },
    links: { self: `/files/${dir._id}/relationships/contents` } as Record<string, string>,
    data: page.docs.map((d) => ref(d._id)),
  };
  const out: Record<string, unknown> = { data, included: page.docs.map(resource) };
  if (page.next) {
    (contents.links as Record<string, string>).next = `/files/${dir._id}/relationships/contents?${page.next}`;
    out.links = { next: `/files/${dir._id}?${page.next}` };
  }
  data.relationships.contents = contents;
  return out;
}

/** `{data: [...], meta: {count}, links: {next?}}` for a listing (the trash, a directory's contents). */
export function listDocument(path: string, page: ContentsPage): Record<string, unknown> {
  return { data: page.docs.map(resource), meta: { count: page.count }, links: page.next ? { next: `${path}?${page.next}` } : {} };
}

/** `{data, included}` for a file with its old versions (GET /files/:id), newest first, as cozy-stack. */
export function withVersions(doc: FileDoc, versions: VersionDoc[]): Record<string, unknown> {
  const data = resource(doc);
  if (versions.length === 0) return { data };
  const newest = [...versions].reverse();
  data.relationships.old_versions = { data: newest.map((v) => ({ type: VERSIONS_DOCTYPE, id: v._id })) };
  return { data, included: newest.map(versionResource) };
}

/** An io.cozy.files.versions document on the wire (without its blob key). */
export function versionResource(v: VersionDoc): { type: typeof VERSIONS_DOCTYPE; id: string; meta: { rev: string }; attributes: Doc } {
  const { _id, _rev, internal_vfs_id: _blob, ...attributes } = v;
  return { type: VERSIONS_DOCTYPE, id: _id, meta: { rev: _rev }, attributes };
}

/** `{data}` for a file, or a directory without its contents (after a change). */
export function single(doc: FileDoc): { data: Resource } {
  return { data: resource(doc) };
}
