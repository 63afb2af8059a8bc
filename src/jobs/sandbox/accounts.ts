/**
 * io.cozy.accounts credentials at rest, as cozy-stack keeps them (model/account/credentials.go): on every write
 * through /data, `auth.password` becomes `auth.credentials_encrypted` (login and password sealed together; the
 * login also stays in clear) and `auth.secret`, `dob`, `code`, `answer`, `access_token`, `refresh_token`,
 * `appSecret`, `session` become `<field>_encrypted`; the same inside `data.auth`. Sealing is AES-256-GCM under
 * a key derived with HKDF from the instance's session secret (auth/twofactor/seal.ts, its own purpose).
 * Every /data read path (by id, _all_docs, _find, _changes, _bulk_get) decrypts, only for the konnector whose slug is the account's
 * `account_type` (cozy-stack decrypts for any konnector; Hearth keeps each konnector to its own accounts).
 */
import { openSecret, sealSecret, type SealPurpose } from '../../auth/twofactor/seal.js';
import type { Instance } from '../../instances/types.js';
import type { Doc, DocStore } from '../../data/store.js';
import { NotFound } from '../../common/errors.js';
import type { DocTransforms } from '../../data/http/context.js';
import type { PermissionSet } from '../../permissions/rules.js';

export const ACCOUNTS_DOCTYPE = 'io.cozy.accounts';
/** A deleted account's last revision, kept (sealed) for its konnector's `on_delete_account` (cozy-stack's doctype). */
export const SOFT_DELETED_ACCOUNTS_DOCTYPE = 'io.cozy.accounts.soft_deleted';
const PURPOSE: SealPurpose = 'hearth/accounts/credentials/v1';
const SECRET_FIELDS = new Set(['secret', 'dob', 'code', 'answer', 'access_token', 'refresh_token', 'appSecret', 'session']);
const SUFFIX = '_encrypted';

type Sealer = { seal(clear: string): string; open(sealed: string): string | null };
type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);

function encryptIn(m: Obj, s: Sealer): Obj {
  const out: Obj = { ...m };
  if (isObj(m.auth)) {
    const auth: Obj = {};
    const kept: Obj = {};
    for (const [k, v] of Object.entries(m.auth)) {
      if (k === 'password') auth.credentials_encrypted = s.seal(JSON.stringify({ login: typeof m.auth.login === 'string' ? m.auth.login : '', password: String(v ?? '') }));
      else if (SECRET_FIELDS.has(k)) auth[k + SUFFIX] = s.seal(JSON.stringify(v ?? null));
      else if (k.endsWith(SUFFIX)) kept[k] = v;
      else auth[k] = v;
    }
    // an _encrypted field given as such stays, unless a clear field of this write replaced it
    for (const [k, v] of Object.entries(kept)) if (!(k in auth)) auth[k] = v;
    out.auth = auth;
  }
  if (isObj(m.data)) out.data = encryptIn(m.data, s);
  return out;
}

function decryptIn(m: Obj, s: Sealer): Obj {
  const out: Obj = { ...m };
  if (isObj(m.auth)) {
    const auth: Obj = {};
    for (const [k, v] of Object.entries(m.auth)) {
      const clear = k.endsWith(SUFFIX) && typeof v === 'string' ? s.open(v) : null;
      if (clear === null) {
        auth[k] = v;
        continue;
      }
      const value = JSON.parse(clear) as unknown;
      if (k === 'credentials' + SUFFIX && isObj(value)) {
        auth.login = value.login;
        auth.password = value.password;
      } else auth[k.slice(0, -SUFFIX.length)] = value;
    }
    out.auth = auth;
  }
  if (isObj(m.data)) out.data = decryptIn(m.data, s);
  return out;
}

/** Seals the clear credentials of an account document (a copy; other doctypes are returned as given). */
export async function transformIn(keyOf: (instance: Instance) => Promise<Uint8Array>, instance: Instance, doctype: string, doc: Doc): Promise<Doc> {
  if (doctype !== ACCOUNTS_DOCTYPE || doc._deleted === true) return doc;
  const key = await keyOf(instance);
  return encryptIn(doc, { seal: (c) => sealSecret(key, instance.id, c, PURPOSE), open: () => null }) as Doc;
}

/** The konnector that owns the account (its slug is the account_type) gets it decrypted; anyone else as stored. */
export async function transformOut(keyOf: (instance: Instance) => Promise<Uint8Array>, instance: Instance, doctype: string, doc: Doc, set: PermissionSet): Promise<Doc> {
  if (doctype !== ACCOUNTS_DOCTYPE || set.type !== 'konnector' || typeof doc.account_type !== 'string') return doc;
  if (set.sourceId !== `io.cozy.konnectors/${doc.account_type}`) return doc;
  const key = await keyOf(instance);
  return decryptIn(doc, { seal: () => '', open: (v) => openSecret(key, instance.id, v, PURPOSE) }) as Doc;
}

/**
 * `GET /data/io.cozy.accounts/:id?rev=` of a deleted account's last revision answers its soft-deleted copy (as
 * cozy-stack's getAccount does), so that the konnector's `on_delete_account` can read the account it cleans up.
 */
export async function softDeletedRevision(store: DocStore, doctype: string, id: string, rev: string): Promise<Doc | null> {
  if (doctype !== ACCOUNTS_DOCTYPE) return null;
  const kept = await store.get(SOFT_DELETED_ACCOUNTS_DOCTYPE, id).catch((e: unknown) => {
    if (e instanceof NotFound) return null;
    throw e;
  });
  if (!kept || kept.soft_deleted_rev !== rev) return null;
  const { soft_deleted_rev: _kept, ...doc } = kept;
  return { ...doc, _id: id, _rev: rev } as Doc;
}

/** The /data hooks (DataDeps.transforms), keyed by the instance's session secret. */
export function accountTransforms(keyOf: (instance: Instance) => Promise<Uint8Array>): DocTransforms {
  return {
    keptRevision: softDeletedRevision,
    in: (instance, doctype, doc) => transformIn(keyOf, instance, doctype, doc),
    out: (instance, doctype, doc, set) => transformOut(keyOf, instance, doctype, doc, set),
  };
}
