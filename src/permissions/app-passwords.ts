/**
 * App passwords: long random passwords the owner creates for clients that only speak Basic auth
 * (WebDAV file managers, rclone…), each with its own rights (default: the files) and revocable
 * alone. Sent as the Basic password (any user name), like tokens. Stored as SHA-256 hashes: they
 * are 256-bit random, so a slow hash adds nothing, and every WebDAV request checks one.
 */
import { createHash, randomBytes } from 'node:crypto';
import { NotFound } from '../common/errors.js';
import type { Doc, DocStore } from '../data/store.js';
import type { Instance } from '../instances/types.js';
import { parseScope } from './rules.js';

export const APP_PASSWORDS_DOCTYPE = 'io.cozy.hearth.app_passwords';
/** `hap_` + 43 base64url characters: never mistaken for a JWT (no dot) or a share shortcode. */
export const APP_PASSWORD_RE = /^hap_[A-Za-z0-9_-]{43}$/;
const DEFAULT_SCOPE = 'io.cozy.files';
const INDEX = { ddoc: '_design/hearth-app-passwords', name: 'by-hash', fields: [{ field: 'hash', dir: 'asc' as const }] };

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export interface AppPassword {
  id: string;
  label: string;
  scope: string;
  created_at: string;
  last_used_at: string | null;
}

const wire = (d: Doc): AppPassword => ({
  id: String(d._id), label: String(d.label), scope: String(d.scope), created_at: String(d.created_at),
  last_used_at: typeof d.last_used_at === 'string' ? d.last_used_at : null,
});

export class AppPasswords {
  /** `last_used_at` is written at most once an hour per password. */
  private readonly touched = new Map<string, number>();

  constructor(private readonly storeOf: (instance: Instance) => DocStore, private readonly now: () => Date = () => new Date()) {}

  /** A new app password: its record, and the password in clear (shown once). */
  async create(instance: Instance, label: string, scope = DEFAULT_SCOPE): Promise<{ record: AppPassword; password: string }> {
    parseScope(scope); // a bad scope is refused here (400), not at first use
    const password = `hap_${randomBytes(32).toString('base64url')}`;
    const store = this.storeOf(instance);
    await store.createIndex(APP_PASSWORDS_DOCTYPE, INDEX);
    const doc = { _id: randomBytes(16).toString('hex'), label: label.slice(0, 200), scope, hash: sha256(password), created_at: this.now().toISOString() };
    await store.put(APP_PASSWORDS_DOCTYPE, doc);
    return { record: wire(doc), password };
  }

  async list(instance: Instance): Promise<AppPassword[]> {
    const res = await this.storeOf(instance).allDocs(APP_PASSWORDS_DOCTYPE, { include_docs: true, skipDesign: true });
    return res.rows.flatMap((r) => (r.doc && !r.doc._deleted ? [wire(r.doc)] : []));
  }

  async revoke(instance: Instance, id: string): Promise<void> {
    const store = this.storeOf(instance);
    let doc: Doc;
    try {
      doc = await store.get(APP_PASSWORDS_DOCTYPE, id);
    } catch (err) {
      if (err instanceof NotFound) throw new NotFound(`no app password ${id.slice(0, 64)}`);
      throw err;
    }
    await store.put(APP_PASSWORDS_DOCTYPE, { _id: id, _rev: String(doc._rev), _deleted: true });
  }

  /** The live app password `password` is, or null. */
  async find(instance: Instance, password: string): Promise<AppPassword | null> {
    if (!APP_PASSWORD_RE.test(password)) return null;
    const store = this.storeOf(instance);
    if (!(await store.info(APP_PASSWORDS_DOCTYPE))) return null;
    const res = await store.find(APP_PASSWORDS_DOCTYPE, { selector: { hash: sha256(password) }, limit: 1, skip: 0 });
    const doc = res.docs[0] as Doc | undefined;
    if (!doc) return null;
    const now = this.now().getTime();
    if ((this.touched.get(String(doc._id)) ?? 0) < now - 3_600_000) {
      this.touched.set(String(doc._id), now);
      await store.put(APP_PASSWORDS_DOCTYPE, { ...doc, last_used_at: this.now().toISOString() }).catch(() => undefined); // a concurrent use wrote it
    }
    return wire(doc);
  }
}
