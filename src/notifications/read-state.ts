/**
 * The owner's read / unread state of notifications. cozy-stack has none (its notifications are pushed to phones and
 * mailed; the home of Cozy keeps no read marks), so Hearth adds one, as an extension that leaves cozy's fields alone:
 * a read notification carries `read_at` (the date it was marked read); an unread one has no `read_at`. Each change is
 * a write of the document, so realtime clients get its UPDATED event.
 */
import { Conflict } from '../common/errors.js';
import type { Doc, DocStore } from '../data/store.js';
import { NOTIFICATIONS_DOCTYPE, type NotificationDoc } from './types.js';

export const UNREAD = { read_at: { $exists: false } };
/** How many notifications one "mark all read" pass loads at once. */
const BATCH = 200;

export function unreadCount(store: DocStore): Promise<number> {
  return store.count(NOTIFICATIONS_DOCTYPE, UNREAD);
}

function withRead(doc: NotificationDoc, read: boolean, at: string): NotificationDoc {
  const { read_at: _old, ...rest } = doc;
  return read ? { ...rest, read_at: doc.read_at ?? at } : rest;
}

/** Marks one notification read (keeping the first `read_at`) or unread; unchanged documents are not written. */
export async function markRead(store: DocStore, doc: NotificationDoc, read: boolean, now: number): Promise<NotificationDoc> {
  if ((doc.read_at !== undefined) === read) return doc;
  const { doc: saved } = await store.put(NOTIFICATIONS_DOCTYPE, withRead(doc, read, new Date(now).toISOString()) as unknown as Doc);
  return saved as unknown as NotificationDoc;
}

/** Marks every unread notification read; returns how many were. A document changed meanwhile is skipped (it is read again on the next pass). */
export async function markAllRead(store: DocStore, now: number): Promise<number> {
  const at = new Date(now).toISOString();
  let marked = 0;
  for (let pass = 0; pass < 10_000; pass++) {
    const res = await store.find(NOTIFICATIONS_DOCTYPE, { selector: UNREAD, limit: BATCH, skip: 0 });
    const docs = res.docs as unknown as NotificationDoc[];
    if (docs.length === 0) break;
    let wrote = 0;
    for (const d of docs) {
      try {
        await store.put(NOTIFICATIONS_DOCTYPE, withRead(d, true, at) as unknown as Doc);
        wrote++;
      } catch (err) {
        if (!(err instanceof Conflict)) throw err;
      }
    }
    marked += wrote;
    if (wrote === 0) break;
  }
  return marked;
}
