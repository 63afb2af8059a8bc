import { BadRequest } from '../common/errors.js';

/** cozy-stack's rule: lowercase letters, digits, dots and underscores; we also bound the length. */
const DOCTYPE_RE = /^[a-z0-9_]+(\.[a-z0-9_]+)*$/;

/** cozy-stack's own doctypes that break the rule: `io.cozy.accounts.sourceAccountIdentifier` (consts.SourceAccountIdentifier),
 * which konnectors reference the folders of an account by. */
export const SPECIAL_DOCTYPES: ReadonlySet<string> = new Set(['io.cozy.accounts.sourceAccountIdentifier']);

/** True for a doctype name Hearth accepts (the rule above, bounded, or one of SPECIAL_DOCTYPES). */
export function isDoctypeName(doctype: string): boolean {
  return (doctype.length <= 128 && DOCTYPE_RE.test(doctype)) || SPECIAL_DOCTYPES.has(doctype);
}

export function validateDoctype(doctype: string): string {
  if (!isDoctypeName(doctype)) {
    throw new BadRequest(`invalid doctype "${doctype.slice(0, 140)}": use lowercase letters, digits, "." and "_" only, such as io.cozy.contacts`, 'invalid_doctype');
  }
  return doctype;
}

/** The name of a `_local` document (after `_local/`): like an id, but it may start with `_`
 * (PouchDB's checkpoint ids are base64 with `+` turned into `_`). */
export function validateLocalId(id: unknown): string {
  if (typeof id !== 'string' || id.length === 0) throw new BadRequest('the document id must be a non-empty string', 'illegal_docid');
  if (Buffer.byteLength(id) > 1024) throw new BadRequest('the document id is longer than 1024 bytes', 'illegal_docid');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(id)) throw new BadRequest('the document id contains control characters', 'illegal_docid');
  if (!id.isWellFormed()) throw new BadRequest('the document id is not well-formed unicode', 'illegal_docid');
  return id;
}

/** Document ids: any non-empty string, but no control chars and no lone surrogates; bounded. */
export function validateDocId(raw: unknown): string {
  const id = validateLocalId(raw);
  if (id.startsWith('_') && !id.startsWith('_design/') && !id.startsWith('_local/')) {
    throw new BadRequest('Only reserved document ids may start with underscore.', 'illegal_docid');
  }
  return id;
}
