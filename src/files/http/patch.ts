/**
 * The JSON-API body of PATCH /files/:id and PATCH /files/metadata:
 * `{data: {type: "io.cozy.files", id, attributes: {name?, dir_id?, tags?, executable?, move_to_trash?,
 * permanent_delete?}, relationships?: {parent: {data: {id}}}}}`. Other attributes are ignored, as
 * cozy-stack does (cozy-stack-client sends the whole document back).
 */
import { BadRequest, UnprocessableEntity } from '../../common/errors.js';

export interface FilePatch {
  name?: string;
  dirId?: string;
  tags?: string[];
  executable?: boolean;
  trash: boolean;
  destroy: boolean;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function typed<T>(v: unknown, name: string, ok: (x: unknown) => x is T, expected: string): T | undefined {
  if (v === undefined || v === null) return undefined;
  if (!ok(v)) throw new UnprocessableEntity(`attributes.${name} must be ${expected}`, 'invalid_attribute');
  return v;
}

const isString = (x: unknown): x is string => typeof x === 'string';
const isBool = (x: unknown): x is boolean => typeof x === 'boolean';
const isStrings = (x: unknown): x is string[] => Array.isArray(x) && x.every(isString);

export function parsePatch(body: unknown): FilePatch {
  const data = isObject(body) ? body.data : undefined;
  if (!isObject(data)) throw new BadRequest('send a JSON-API body: {"data": {"type": "io.cozy.files", "attributes": {…}}}', 'bad_json');
  const a = data.attributes ?? {};
  if (!isObject(a)) throw new BadRequest('data.attributes must be an object', 'bad_json');
  const out: FilePatch = { trash: typed(a.move_to_trash, 'move_to_trash', isBool, 'true or false') === true, destroy: typed(a.permanent_delete, 'permanent_delete', isBool, 'true or false') === true };
  const name = typed(a.name, 'name', isString, 'a string');
  const parent = isObject(data.relationships) && isObject(data.relationships.parent) && isObject(data.relationships.parent.data) ? data.relationships.parent.data.id : undefined;
  const dirId = typed(a.dir_id, 'dir_id', isString, 'a string') ?? typed(parent, 'parent', isString, 'a directory id');
  const tags = typed(a.tags, 'tags', isStrings, 'an array of strings');
  const executable = typed(a.executable, 'executable', isBool, 'true or false');
  if (name !== undefined) out.name = name;
  if (dirId !== undefined) out.dirId = dirId;
  if (tags !== undefined) out.tags = tags;
  if (executable !== undefined) out.executable = executable;
  return out;
}
