/**
 * The owner's own contact, cozy-stack's "myself" (model/contact): the io.cozy.contacts document with
 * `me: true`, created from the instance settings (public name, email) when there is none. Its id is
 * derived from the instance, so two concurrent creations write the same document: one wins, the other
 * reads it (no duplicate "me", without a lock).
 */
import { createHash } from 'node:crypto';
import { Conflict } from '../common/errors.js';
import type { Doc, DocStore } from '../data/store.js';
import type { Instance } from '../instances/types.js';

export const CONTACTS_DOCTYPE = 'io.cozy.contacts';

/** The first document with `me: true`, or null. */
export async function findMyself(store: DocStore): Promise<Doc | null> {
  const res = await store.find(CONTACTS_DOCTYPE, { selector: { me: true }, limit: 1, skip: 0 });
  return (res.docs[0] as Doc | undefined) ?? null;
}

/** The document cozy-stack's CreateMyself writes for `instance`, reachable at `cozyUrl`. */
export function myselfDraft(instance: Instance, cozyUrl: string): Doc {
  const id = createHash('sha256').update(`${instance.id}/io.cozy.contacts/myself`).digest('hex').slice(0, 32);
  const email = instance.email ?? '';
  const doc: Doc = { _id: id, me: true };
  if (email) doc.email = [{ address: email, primary: true }];
  const name = instance.publicName ?? '';
  const fullname = name || email.split('@')[0] || '';
  if (fullname) {
    doc.fullname = fullname;
    doc.displayName = name || email;
  }
  doc.cozy = [{ url: cozyUrl, primary: true }];
  doc.indexes = { byFamilyNameGivenNameEmailCozyUrl: email || cozyUrl };
  return doc;
}

/** Writes `draft` unless it exists already (a concurrent call, or a deleted then re-created "me"): answers the stored one. */
export async function createMyself(store: DocStore, draft: Doc): Promise<Doc> {
  try {
    return (await store.put(CONTACTS_DOCTYPE, draft)).doc;
  } catch (err) {
    if (!(err instanceof Conflict)) throw err;
    return (await findMyself(store)) ?? (await store.get(CONTACTS_DOCTYPE, String(draft._id)));
  }
}
