/**
 * Properties of a resource. Live ones come from the io.cozy.files document (and the locks and the
 * quota); they are protected (PROPPATCH cannot change them). Dead ones are what clients PROPPATCH:
 * kept in the document under `dav_props`, keyed `{namespace}name` (Clark notation), valued with
 * their XML content, self-contained (xml.ts serialize), so they survive MOVE, trash and restore
 * with the document, and COPY copies them.
 */
import type { Doc } from '../../data/store.js';
import type { Instance } from '../../instances/types.js';
import type { Vfs } from '../vfs.js';
import { FILES_DOCTYPE, isDir, type FileDoc } from '../types.js';
import type { DavLock } from './locks.js';
import { hrefOf } from './paths.js';
import { DAV, dav, esc } from './xml.js';

export const DEAD_PROPS_FIELD = 'dav_props';
/** Bounds on what clients may store: a document stays small. */
export const MAX_DEAD_PROPS = 200;
export const MAX_DEAD_PROPS_BYTES = 256 * 1024;

export type DeadProps = Record<string, string>;

export const propKey = (ns: string, name: string): string => `{${ns}}${name}`;
export function splitKey(key: string): [string, string] {
  const close = key.lastIndexOf('}');
  return [key.slice(1, close), key.slice(close + 1)];
}

export function deadPropsOf(doc: Doc): DeadProps {
  const raw = doc[DEAD_PROPS_FIELD];
  return raw && typeof raw === 'object' && !Array.isArray(raw) ? ({ ...raw } as DeadProps) : {};
}

/**
 * Changes the dead properties of a document through the DocStore, with its `_rev`, under the file
 * system's lock (FileTree.patch does not write arbitrary fields).
 */
export function patchDeadProps(vfs: Vfs, instance: Instance, id: string, change: (props: DeadProps) => DeadProps): Promise<FileDoc> {
  return vfs.fs.lock(instance, async () => {
    const doc = await vfs.fs.stat(instance, id);
    const props = change(deadPropsOf(doc));
    const next: Doc = { ...doc };
    if (Object.keys(props).length) next[DEAD_PROPS_FIELD] = props;
    else delete next[DEAD_PROPS_FIELD];
    return (await vfs.fs.store(instance).put(FILES_DOCTYPE, next)).doc as FileDoc;
  });
}

/** The ETag of a resource: the quoted MD5 (base64, as md5sum) of a file; the revision of a collection. */
export const etagOf = (doc: FileDoc): string => (isDir(doc) ? `"${doc._rev}"` : `"${String(doc.md5sum)}"`);

export const lastModified = (doc: FileDoc): string => {
  const d = new Date(doc.updated_at);
  return Number.isNaN(d.getTime()) ? new Date(0).toUTCString() : d.toUTCString();
};

export interface Quota {
  used: number;
  /** Null without a quota: quota-available-bytes is then not defined (RFC 4331 §3). */
  available: number | null;
}

/** What live properties need besides the document. */
export interface PropContext {
  path: string;
  locks: DavLock[];
  quota: () => Promise<Quota>;
  now: number;
}

const SUPPORTED_LOCK = ['exclusive', 'shared'].map((s) => dav('lockentry', dav('lockscope', dav(s)) + dav('locktype', dav('write')))).join('');

export function activeLock(l: DavLock, now: number): string {
  return dav('activelock', [
    dav('locktype', dav('write')),
    dav('lockscope', dav(l.scope)),
    dav('depth', l.depth === '0' ? '0' : 'infinity'),
    l.owner ? dav('owner', l.owner) : '',
    dav('timeout', `Second-${Math.max(0, Math.ceil((l.expiresAt - now) / 1000))}`),
    dav('locktoken', dav('href', esc(l.token))),
    dav('lockroot', dav('href', esc(hrefOf(l.root, false)))),
  ].join(''));
}

interface LiveProp {
  /** Returned by allprop (RFC 4331's quota properties are not: they are asked for by name). */
  allprop: boolean;
  /** The value as XML, or null when the resource has no such property (404 in its propstat). */
  value(doc: FileDoc, ctx: PropContext): string | null | Promise<string | null>;
}

const iso = (s: string) => {
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? esc(s) : d.toISOString();
};

const LIVE: Record<string, LiveProp> = {
  creationdate: { allprop: true, value: (d) => iso(d.created_at) },
  displayname: { allprop: true, value: (d) => esc(d.name) },
  getcontentlength: { allprop: true, value: (d) => (isDir(d) ? null : String(Number(d.size))) },
  getcontenttype: { allprop: true, value: (d) => (isDir(d) ? null : esc(String(d.mime ?? 'application/octet-stream'))) },
  getetag: { allprop: true, value: (d) => esc(etagOf(d)) },
  getlastmodified: { allprop: true, value: (d) => lastModified(d) },
  resourcetype: { allprop: true, value: (d) => (isDir(d) ? dav('collection') : '') },
  supportedlock: { allprop: true, value: () => SUPPORTED_LOCK },
  lockdiscovery: { allprop: true, value: (_d, c) => c.locks.map((l) => activeLock(l, c.now)).join('') },
  'quota-available-bytes': { allprop: false, value: async (d, c) => {
    if (!isDir(d)) return null;
    const q = await c.quota();
    return q.available === null ? null : String(q.available);
  } },
  'quota-used-bytes': { allprop: false, value: async (d, c) => (isDir(d) ? String((await c.quota()).used) : null) },
};

export const isLive = (ns: string, name: string): boolean => ns === DAV && Object.hasOwn(LIVE, name);

export const LIVE_NAMES = Object.keys(LIVE);
export const ALLPROP_NAMES = LIVE_NAMES.filter((n) => LIVE[n]!.allprop);

/** A live property's value (XML), or null when it is not defined on this resource. */
export function liveValue(name: string, doc: FileDoc, ctx: PropContext): string | null | Promise<string | null> {
  return LIVE[name]!.value(doc, ctx);
}
