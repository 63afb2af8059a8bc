/**
 * LOCK and UNLOCK (RFC 4918 §9.10, §9.11): exclusive and shared write locks, Depth 0 or infinity,
 * timeouts (Second-N, Infinite: capped), refresh (a LOCK without body, the token in the If
 * header). A LOCK on an unmapped URL creates an empty file, locked (§7.3 "locked empty resource"):
 * it stays, empty, once unlocked. A lock is taken for the request's principal (the credential): only it can
 * refresh it (423 for another) or UNLOCK it (403 for another, RFC 4918 §9.11.1).
 */
import { Readable } from 'node:stream';
import { BadRequest, PreconditionFailed } from '../../common/errors.js';
import { isDir, parentPath } from '../types.js';
import type { DavRequest } from './context.js';
import { DavError, Locked } from './errors.js';
import type { DavLock, LockScope } from './locks.js';
import { hrefOf, nameOf } from './paths.js';
import { activeLock } from './props.js';
import { XML_DECL, XML_TYPE, dav as d, elements, esc, isDav, serialize, type XmlElement } from './xml.js';

export const DEFAULT_TIMEOUT = 3600;
export const MAX_TIMEOUT = 24 * 3600;

/** The Timeout header: the first value we understand (RFC 4918 §10.7), capped. */
export function timeoutOf(header: string | undefined): number {
  for (const part of (header ?? '').split(',').map((s) => s.trim().toLowerCase())) {
    if (part === 'infinite') return MAX_TIMEOUT;
    const m = /^second-(\d{1,12})$/.exec(part);
    if (m) return Math.min(MAX_TIMEOUT, Math.max(1, Number(m[1])));
  }
  return DEFAULT_TIMEOUT;
}

function lockInfo(root: XmlElement): { scope: LockScope; owner: string } {
  if (!isDav(root, 'lockinfo')) throw new BadRequest('a LOCK body must be a DAV:lockinfo element');
  const kids = elements(root);
  const scopeEl = kids.find((k) => isDav(k, 'lockscope'));
  const scope = scopeEl && elements(scopeEl).find((e) => isDav(e, 'exclusive') || isDav(e, 'shared'))?.name;
  if (scope !== 'exclusive' && scope !== 'shared') throw new BadRequest('DAV:lockscope must hold DAV:exclusive or DAV:shared');
  const typeEl = kids.find((k) => isDav(k, 'locktype'));
  if (!typeEl || !elements(typeEl).some((e) => isDav(e, 'write'))) throw new DavError(422, 'unprocessable_entity', 'only write locks exist (DAV:locktype must hold DAV:write)');
  const owner = kids.find((k) => isDav(k, 'owner'));
  return { scope, owner: owner ? serialize(owner.children) : '' };
}

async function answer(dav: DavRequest, lock: DavLock, status: number): Promise<void> {
  const body = `${XML_DECL}<D:prop xmlns:D="DAV:">${d('lockdiscovery', activeLock(lock, Date.now()))}</D:prop>`;
  await dav.reply.code(status).type(XML_TYPE).header('Lock-Token', `<${lock.token}>`).send(body);
}

async function refresh(dav: DavRequest): Promise<void> {
  if (dav.header('if') === undefined) throw new BadRequest('a LOCK without body refreshes a lock: send its token in an If header');
  const doc = await dav.resolve(dav.target.path);
  if (doc) await dav.rights.assert('PUT', doc);
  await dav.preconditions(doc);
  const ns = dav.instance.id;
  const lock = (await dav.deps.locks.covering(ns, dav.target.path)).find((l) => dav.tokens.has(l.token));
  if (!lock) throw new PreconditionFailed('no lock of this resource has the token given in the If header');
  if (!dav.holds(lock)) throw new Locked(hrefOf(lock.root, false), 'this lock was taken with another credential: only that credential can refresh it');
  const renewed = await dav.deps.locks.refresh(ns, lock.token, timeoutOf(dav.header('timeout')));
  if (!renewed) throw new PreconditionFailed('the lock has just expired');
  await answer(dav, renewed, 200);
}

export async function lock(dav: DavRequest): Promise<void> {
  const body = await dav.xml();
  if (!body) return refresh(dav);
  const info = lockInfo(body);
  const depth = dav.depth('infinity', ['0', 'infinity']) as '0' | 'infinity';
  const { path } = dav.target;
  const doc = await dav.resolve(path);
  const parent = doc ? null : await dav.parentOf(path);
  if (doc) await dav.rights.assert('PUT', doc);
  else await dav.rights.assertCreate(parent!, { type: 'file', name: nameOf(path) });
  await dav.preconditions(doc);
  if (!doc) await dav.assertUnlocked({ path: parentPath(path) });
  const ns = dav.instance.id;
  const got = await dav.deps.locks.acquire(ns, { root: path, depth: doc && !isDir(doc) ? '0' : depth, scope: info.scope, owner: info.owner, timeout: timeoutOf(dav.header('timeout')), principal: dav.principal });
  if ('conflict' in got) {
    throw new DavError(423, 'locked', `${hrefOf(got.conflict.root, false)} is already locked (${got.conflict.scope})`, d('no-conflicting-lock', d('href', esc(hrefOf(got.conflict.root, false)))));
  }
  if (!doc) {
    try {
      await dav.fs.upload(dav.instance, { dirId: parent!._id, name: nameOf(path), body: Readable.from([]), size: 0 });
    } catch (err) {
      await dav.deps.locks.release(ns, got.lock.token);
      throw err;
    }
  }
  await answer(dav, got.lock, doc ? 200 : 201);
}

export async function unlock(dav: DavRequest): Promise<void> {
  const raw = dav.header('lock-token')?.trim();
  const token = raw && /^<[^<>]+>$/.test(raw) ? raw.slice(1, -1) : null;
  if (!token) throw new BadRequest('UNLOCK needs a Lock-Token header: <opaquelocktoken:…>');
  const doc = await dav.resolve(dav.target.path);
  if (!doc) throw new DavError(404, 'not_found', `nothing at ${hrefOf(dav.target.path, false)}`);
  await dav.rights.assert('PUT', doc);
  const ns = dav.instance.id;
  const held = (await dav.deps.locks.covering(ns, dav.target.path)).find((l) => l.token === token);
  if (!held) throw new DavError(409, 'conflict', 'this lock token does not lock this resource', d('lock-token-matches-request-uri'));
  // RFC 4918 §9.11.1: 403 when the principal may not remove the lock (it was taken with another credential)
  if (held.principal !== dav.principal) throw new DavError(403, 'forbidden', 'this lock was taken with another credential: only that credential can unlock it (or wait for it to time out)');
  await dav.deps.locks.release(ns, token);
  await dav.reply.code(204).send();
}
