/**
 * PROPFIND (RFC 4918 §9.1): allprop (with include), propname, or named properties, at Depth 0 or 1.
 * Depth infinity on a collection is refused with 403 and the propfind-finite-depth precondition
 * (§9.1, "servers may refuse"); on a file it is the same as Depth 0. A collection's members are read
 * page by page; the trash is never listed.
 */
import { BadRequest } from '../../common/errors.js';
import { TRASH_DIR_ID, isDir, joinPath, type FileDoc } from '../types.js';
import type { DavRequest } from './context.js';
import { DavError } from './errors.js';
import { hrefOf } from './paths.js';
import { ALLPROP_NAMES, LIVE_NAMES, deadPropsOf, isLive, liveValue, splitKey, type PropContext, type Quota } from './props.js';
import { DAV, XML_TYPE, element, elements, isDav, multistatus, response, type XmlElement } from './xml.js';

type Request =
  | { kind: 'allprop'; include: Array<[string, string]> }
  | { kind: 'propname' }
  | { kind: 'prop'; names: Array<[string, string]> };

const PAGE = 500;

function parseRequest(root: XmlElement | null): Request {
  if (!root) return { kind: 'allprop', include: [] };
  if (!isDav(root, 'propfind')) throw new BadRequest('a PROPFIND body must be a DAV:propfind element');
  const kids = elements(root);
  const names = (e: XmlElement | undefined): Array<[string, string]> => (e ? elements(e).map((p) => [p.ns, p.name]) : []);
  const prop = kids.find((k) => isDav(k, 'prop'));
  if (kids.some((k) => isDav(k, 'allprop'))) return { kind: 'allprop', include: names(kids.find((k) => isDav(k, 'include'))) };
  if (kids.some((k) => isDav(k, 'propname'))) return { kind: 'propname' };
  if (prop) return { kind: 'prop', names: names(prop) };
  throw new BadRequest('a DAV:propfind needs DAV:allprop, DAV:propname or DAV:prop');
}

async function describe(dav: DavRequest, doc: FileDoc, path: string, what: Request, quota: () => Promise<Quota>): Promise<string> {
  const ctx: PropContext = { path, locks: await dav.deps.locks.covering(dav.instance.id, path), quota, now: Date.now() };
  const dead = deadPropsOf(doc);
  const href = hrefOf(path, isDir(doc));
  if (what.kind === 'propname') {
    const live: string[] = [];
    for (const n of LIVE_NAMES) if ((await liveValue(n, doc, ctx)) !== null) live.push(element(DAV, n));
    const props = [...live, ...Object.keys(dead).map((k) => element(...splitKey(k)))];
    return response(href, { propstats: [{ status: 200, props }] });
  }
  const wanted: Array<[string, string]> = what.kind === 'prop'
    ? what.names
    : [...ALLPROP_NAMES.map((n): [string, string] => [DAV, n]), ...Object.keys(dead).map(splitKey), ...what.include];
  const found: string[] = [];
  const missing: string[] = [];
  const seen = new Set<string>();
  for (const [ns, name] of wanted) {
    const key = `{${ns}}${name}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const value = isLive(ns, name) ? await liveValue(name, doc, ctx) : (dead[key] ?? null);
    if (value === null) {
      // allprop only lists what the resource has
      if (what.kind === 'prop') missing.push(element(ns, name));
    } else found.push(element(ns, name, value));
  }
  return response(href, { propstats: [{ status: 200, props: found }, { status: 404, props: missing }] });
}

export async function propfind(dav: DavRequest): Promise<void> {
  const depth = dav.depth('infinity', ['0', '1', 'infinity']);
  const what = parseRequest(await dav.xml());
  const doc = await dav.resolve(dav.target.path);
  if (!doc) throw new DavError(404, 'not_found', `nothing at ${hrefOf(dav.target.path, false)}`);
  await dav.rights.assert('GET', doc);
  await dav.preconditions(doc);
  if (depth === 'infinity' && isDir(doc)) {
    throw new DavError(403, 'forbidden', 'PROPFIND with Depth: infinity is not supported on collections: use Depth 0 or 1', '<D:propfind-finite-depth/>');
  }
  let cached: Promise<Quota> | undefined;
  const quota = () => (cached ??= (async () => {
    const used = await dav.fs.diskUsage(dav.instance);
    const limit = dav.instance.diskQuota;
    return { used, available: limit === null ? null : Math.max(0, limit - used) };
  })());
  const out = [await describe(dav, doc, dav.target.path, what, quota)];
  if (depth === '1' && isDir(doc)) {
    for (let cursor: string | undefined; ;) {
      const page = await dav.fs.children(dav.instance, doc._id, { limit: PAGE, ...(cursor === undefined ? {} : { cursor }) });
      for (const child of page.docs) {
        if (child._id === TRASH_DIR_ID) continue;
        out.push(await describe(dav, child, joinPath(dav.target.path, child.name), what, quota));
      }
      if (page.next === null) break;
      cursor = page.next;
    }
  }
  await dav.reply.code(207).type(XML_TYPE).send(multistatus(out));
}
