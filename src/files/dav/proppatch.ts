/**
 * PROPPATCH (RFC 4918 §9.2): sets and removes dead properties in document order, all or nothing.
 * A live property cannot be changed: the answer is then 207 with 403 (cannot-modify-protected-
 * property) for it and 424 Failed Dependency for the others, and nothing is written.
 */
import { BadRequest } from '../../common/errors.js';
import { isDir } from '../types.js';
import type { DavRequest } from './context.js';
import { DavError, insufficientStorage } from './errors.js';
import { hrefOf } from './paths.js';
import { MAX_DEAD_PROPS, MAX_DEAD_PROPS_BYTES, isLive, patchDeadProps, propKey, type DeadProps } from './props.js';
import { XML_TYPE, element, elements, isDav, multistatus, response, serialize, type XmlElement } from './xml.js';

interface Op {
  set: boolean;
  ns: string;
  name: string;
  value: string;
}

function operations(root: XmlElement | null): Op[] {
  if (!root || !isDav(root, 'propertyupdate')) throw new BadRequest('a PROPPATCH body must be a DAV:propertyupdate element');
  const ops: Op[] = [];
  for (const action of elements(root)) {
    const set = isDav(action, 'set');
    if (!set && !isDav(action, 'remove')) continue;
    for (const prop of elements(action).filter((e) => isDav(e, 'prop'))) {
      for (const p of elements(prop)) ops.push({ set, ns: p.ns, name: p.name, value: set ? serialize(p.children) : '' });
    }
  }
  if (ops.length === 0) throw new BadRequest('the DAV:propertyupdate names no property');
  return ops;
}

function apply(props: DeadProps, ops: Op[]): DeadProps {
  const next = { ...props };
  for (const op of ops) {
    const key = propKey(op.ns, op.name);
    if (op.set) next[key] = op.value;
    else delete next[key];
  }
  if (Object.keys(next).length > MAX_DEAD_PROPS) throw insufficientStorage(`at most ${MAX_DEAD_PROPS} dead properties are kept per resource`);
  if (Buffer.byteLength(JSON.stringify(next)) > MAX_DEAD_PROPS_BYTES) throw insufficientStorage(`the dead properties of a resource are limited to ${MAX_DEAD_PROPS_BYTES} bytes`);
  return next;
}

export async function proppatch(dav: DavRequest): Promise<void> {
  const ops = operations(await dav.xml());
  const doc = await dav.resolve(dav.target.path);
  if (!doc) throw new DavError(404, 'not_found', `nothing at ${hrefOf(dav.target.path, false)}`);
  await dav.rights.assert('PATCH', doc);
  await dav.preconditions(doc);
  await dav.assertUnlocked({ path: dav.target.path });
  const href = hrefOf(dav.target.path, isDir(doc));
  const names = (pick: (op: Op) => boolean) => [...new Map(ops.filter(pick).map((op) => [propKey(op.ns, op.name), element(op.ns, op.name)])).values()];
  const protectedOps = ops.filter((op) => isLive(op.ns, op.name));
  if (protectedOps.length) {
    const bad = new Set(protectedOps.map((op) => propKey(op.ns, op.name)));
    const body = response(href, {
      propstats: [
        { status: 403, props: names((op) => bad.has(propKey(op.ns, op.name))) },
        { status: 424, props: names((op) => !bad.has(propKey(op.ns, op.name))) },
      ],
    }, 'live properties are protected: they cannot be set or removed');
    await dav.reply.code(207).type(XML_TYPE).send(multistatus([body]));
    return;
  }
  await patchDeadProps(dav.deps.vfs, dav.instance, doc._id, (props) => apply(props, ops));
  await dav.reply.code(207).type(XML_TYPE).send(multistatus([response(href, { propstats: [{ status: 200, props: names(() => true) }] })]));
}
