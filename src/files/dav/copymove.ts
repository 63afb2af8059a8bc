/**
 * COPY and MOVE (RFC 4918 §9.8, §9.9). MOVE is a rename or move of the document (FileTree.patch:
 * a collection moves with its subtree, in one transaction). COPY streams each file blob to blob
 * (copy.ts, with the quota) and re-creates collections, Depth 0 or infinity; dead properties are
 * copied. With Overwrite: T an existing destination first goes to the trash (so it can be restored);
 * Overwrite: F answers 412. Locks never follow: those on a moved source go (§7.5).
 *
 * A COPY of a collection goes on when a member fails (§9.8.8): the others are copied, and the answer is 207
 * Multi-Status with one response per member that failed and its status (507 for one over the quota, 404 for a
 * file whose content is missing, …), under its destination URL (its source URL when the source is what is
 * missing). The members of a collection that could not be made are not listed (§9.8.3: no 424). A failure on the
 * Request-URI itself (the top of the copy) is the answer itself, as for a file.
 */
import { NotFound } from '../../common/errors.js';
import { copyFile } from '../copy.js';
import { isDir, joinPath, parentPath, type FileDoc } from '../types.js';
import type { DavRequest } from './context.js';
import { DavError, toDavError } from './errors.js';
import { hrefOf, nameOf, within } from './paths.js';
import { deadPropsOf, patchDeadProps } from './props.js';
import { XML_TYPE, dav as d, esc, multistatus, statusLine } from './xml.js';

const PAGE = 200;

async function copyProps(dav: DavRequest, from: FileDoc, to: FileDoc): Promise<void> {
  const props = deadPropsOf(from);
  if (Object.keys(props).length) await patchDeadProps(dav.deps.vfs, dav.instance, to._id, () => props);
}

/** A member of a collection COPY that failed: where, and the error (already mapped as WebDAV answers it). */
interface MemberFailure {
  href: string;
  status: number;
  reason: string;
  condition?: string;
}

/** The failure of one member, as its <D:response> will say it. */
function memberFailure(dav: DavRequest, err: unknown, from: string, to: string, collection: boolean): MemberFailure {
  const known = toDavError(err);
  if (!known) dav.req.log.error({ err, from, to }, 'COPY of a collection member failed');
  const status = known?.status ?? 500;
  const reason = known?.reason ?? `an unexpected error happened; the server log has the details (request id ${dav.req.id})`;
  // a missing source (its content lost, or gone meanwhile) is said at the source; anything else where the copy goes
  const href = err instanceof NotFound ? hrefOf(from, collection) : hrefOf(to, collection);
  return { href, status, reason, ...(known instanceof DavError && known.condition ? { condition: known.condition } : {}) };
}

/** Copies `src` (at path `from`) to `to` in the directory `dirId`; members that fail are added to `failures`. */
async function copyInto(dav: DavRequest, src: FileDoc, from: string, dirId: string, to: string, deep: boolean, failures: MemberFailure[]): Promise<void> {
  const { fs } = dav;
  const name = nameOf(to);
  if (!isDir(src)) {
    await copyProps(dav, src, await copyFile(fs, dav.instance, src._id, { dirId, name }));
    return;
  }
  const dir = await fs.createDir(dav.instance, { dirId, name, tags: [...src.tags] });
  await copyProps(dav, src, dir);
  if (!deep) return;
  for (let cursor: string | undefined; ;) {
    const page = await fs.children(dav.instance, src._id, { limit: PAGE, ...(cursor === undefined ? {} : { cursor }) });
    for (const child of page.docs) {
      const childFrom = joinPath(from, child.name);
      const childTo = joinPath(to, child.name);
      try {
        await copyInto(dav, child, childFrom, dir._id, childTo, true, failures);
      } catch (err) {
        failures.push(memberFailure(dav, err, childFrom, childTo, isDir(child)));
      }
    }
    if (page.next === null) return;
    cursor = page.next;
  }
}

const failureResponse = (f: MemberFailure): string =>
  d('response', d('href', esc(f.href)) + d('status', statusLine(f.status)) + (f.condition ? d('error', f.condition) : '') + d('responsedescription', esc(f.reason)));

export async function copyOrMove(dav: DavRequest, move: boolean): Promise<void> {
  const from = dav.target.path;
  const src = await dav.resolve(from);
  if (!src) throw new DavError(404, 'not_found', `nothing at ${hrefOf(from, false)}`);
  const dest = dav.destination();
  const to = dest.path;
  if (dest.hidden) throw new DavError(403, 'forbidden', 'the trash cannot be written over WebDAV: DELETE moves things there');
  if (to === from) throw new DavError(403, 'forbidden', 'the source and the destination are the same');
  if (within(to, from)) throw new DavError(403, 'forbidden', 'a collection cannot be copied or moved into itself');
  if (within(from, to)) throw new DavError(403, 'forbidden', 'the destination holds the source: it cannot be overwritten');
  const depth = isDir(src) ? dav.depth('infinity', move ? ['infinity'] : ['0', 'infinity']) : 'infinity';
  const overwrite = dav.overwrite();
  const parent = await dav.parentOf(to);
  const existing = await dav.resolve(to);
  if (existing && !overwrite) throw new DavError(412, 'precondition_failed', `${hrefOf(to, isDir(existing))} exists and Overwrite is F`);
  await dav.rights.assert(move ? 'PATCH' : 'GET', src);
  // a rename in place creates nothing: PATCH on the source is enough
  if (!move || parent._id !== src.dir_id) await dav.rights.assertCreate(parent, { type: src.type, name: nameOf(to) });
  if (existing) await dav.rights.assert('DELETE', existing);
  await dav.preconditions(src);
  await dav.assertUnlocked(
    ...(move ? [{ path: from, deep: true }, { path: parentPath(from) }] : []),
    ...(existing ? [{ path: to, deep: true }] : []),
    { path: parentPath(to) },
  );
  if (existing) {
    await dav.deps.vfs.tree.trash(dav.instance, existing._id);
    await dav.deps.locks.dropTree(dav.instance.id, to);
  }
  if (move) {
    await dav.deps.vfs.tree.patch(dav.instance, src._id, { name: nameOf(to), dirId: parent._id });
    await dav.deps.locks.dropTree(dav.instance.id, from);
  } else {
    const failures: MemberFailure[] = [];
    await copyInto(dav, src, from, parent._id, to, depth === 'infinity', failures);
    if (failures.length) {
      await dav.reply.code(207).type(XML_TYPE).send(multistatus(failures.map(failureResponse)));
      return;
    }
  }
  await dav.reply.code(existing ? 204 : 201).send();
}
