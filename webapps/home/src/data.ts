/**
 * What Home reads from the stack: the installed apps and konnectors, the konnectors' triggers with their state, the
 * owner's notifications (Hearth's read marks: PATCH /notifications/:id, POST /notifications/read), the latest changed
 * files and the owner's public name, through the stack client's JSON calls (made before cozy-client is loaded:
 * shared/client.ts), as cozy-client's collections make them (AppCollection.all, TriggerCollection.find by worker,
 * FileCollection's Mango `_find` on its index); files by name through cozy-client's FileCollection (loaded by the
 * first search).
 */
import type { AppClient } from '../../shared/client';

export interface AppInfo { slug: string; name: string; icon: string; version: string; state: string; locales?: Record<string, { name?: string }> }
export interface TriggerInfo { id: string; konnector: string; account?: string; status: string; lastError?: string; lastSuccess?: string; lastExecution?: string }
export interface NotificationInfo { id: string; title: string; message?: string; slug?: string; originator?: string; createdAt: string; readAt?: string }
export interface FileInfo { id: string; name: string; dirId: string; mime?: string; cls?: string; updatedAt?: string; size?: number }

type Raw = Record<string, unknown> & { id?: string; _id?: string; attributes?: Record<string, unknown> };
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export function appName(app: AppInfo, locale: string): string {
  return app.locales?.[locale]?.name || app.name || app.slug;
}

function asApp(d: Raw): AppInfo {
  return {
    slug: str(d.slug) ?? '', name: str(d.name) ?? '', icon: str((d.links as Raw | undefined)?.icon) ?? '', version: str(d.version) ?? '',
    state: str(d.state) ?? '', locales: d.locales as AppInfo['locales'],
  };
}

/** A JSON-API resource as cozy-client normalizes it: its attributes, `_id`, `id` and `links` at the top. */
const flat = (r: Raw): Raw => ({ ...r.attributes, _id: r.id, id: r.id, links: r.links });

export async function listApps(client: AppClient, doctype: 'io.cozy.apps' | 'io.cozy.konnectors'): Promise<AppInfo[]> {
  const { data } = (await client.getStackClient().fetchJSON('GET', doctype === 'io.cozy.apps' ? '/apps/' : '/konnectors/')) as { data: Raw[] };
  return data.map(flat).map(asApp).filter((a) => a.slug);
}

export async function listKonnectorTriggers(client: AppClient): Promise<TriggerInfo[]> {
  const { data } = (await client.getStackClient().fetchJSON('GET', '/jobs/triggers?Worker=konnector')) as { data: Raw[] };
  return data.map(flat).map((d) => {
    const message = (d.message ?? {}) as Record<string, unknown>;
    const s = (d.current_state ?? {}) as Record<string, unknown>;
    return {
      id: String(d._id ?? d.id), konnector: str(message.konnector) ?? '', account: str(message.account), status: str(s.status) ?? '',
      lastError: str(s.last_error), lastSuccess: str(s.last_success), lastExecution: str(s.last_execution),
    };
  }).filter((t) => t.konnector);
}

export function asNotification(d: Raw): NotificationInfo {
  const a = (d.attributes ?? d) as Record<string, unknown>;
  return {
    id: String(d.id ?? d._id), title: str(a.title) ?? '', message: str(a.message), slug: str(a.slug), originator: str(a.originator),
    createdAt: str(a.created_at) ?? '', readAt: str(a.read_at),
  };
}

export const NOTIFICATIONS_PAGE = 20;

/** A page of the owner's notifications, newest first; `next` is the cursor of the following page (null: none). */
export async function listNotifications(client: AppClient, cursor?: string): Promise<{ items: NotificationInfo[]; unread: number; next: string | null }> {
  const query = `page[limit]=${NOTIFICATIONS_PAGE}${cursor ? `&page[cursor]=${encodeURIComponent(cursor)}` : ''}`;
  const res = (await client.getStackClient().fetchJSON('GET', `/notifications?${query}`)) as { data: Raw[]; meta?: { unread?: number }; links?: { next?: string } };
  const items = res.data.map(asNotification);
  const next = res.links?.next ? new URLSearchParams(res.links.next.split('?')[1] ?? '').get('page[cursor]') : null;
  return { items, unread: res.meta?.unread ?? items.filter((n) => !n.readAt).length, next };
}

export async function setRead(client: AppClient, id: string, read: boolean): Promise<NotificationInfo> {
  const res = (await client.getStackClient().fetchJSON('PATCH', `/notifications/${encodeURIComponent(id)}`, { data: { type: 'io.cozy.notifications', attributes: { read } } })) as { data: Raw };
  return asNotification(res.data);
}

export async function markAllRead(client: AppClient): Promise<void> {
  await client.getStackClient().fetchJSON('POST', '/notifications/read');
}

function asFile(d: Raw): FileInfo {
  const a = (d.attributes ?? d) as Record<string, unknown>;
  return {
    id: String(d._id ?? d.id), name: str(a.name) ?? '', dirId: str(a.dir_id) ?? '', mime: str(a.mime), cls: str(a.class),
    updatedAt: str(a.updated_at), size: Number(a.size ?? 0),
  };
}

/** RE2 (the stack's $regex) with every special character escaped: a name typed by a person is matched literally. */
export function literalRegex(text: string): string {
  return `(?i)${text.replace(/[\\^$.|?*+()[\]{}]/g, '\\$&')}`;
}

const INDEXES = new WeakMap<AppClient, Map<string, Promise<unknown>>>();

/**
 * The Mango index the query names (cozy-client's `use_index: _design/by_<fields joined by _and_>`), created once per
 * page: the stack then answers from it instead of scanning every file. Failing to create it only costs speed (the
 * query still answers, and says so itself when it fails), so its failure is not shown.
 */
function ensureIndex(client: AppClient, fields: string[]): Promise<unknown> {
  const name = `by_${fields.join('_and_')}`;
  const known = INDEXES.get(client) ?? new Map<string, Promise<unknown>>();
  INDEXES.set(client, known);
  let p = known.get(name);
  if (!p) {
    p = client.getStackClient().fetchJSON('POST', '/data/io.cozy.files/_index', { index: { fields }, ddoc: name }).catch(() => undefined);
    known.set(name, p);
  }
  return p;
}

/** Files whose name contains `text` (case-insensitive), not in the trash, newest first. */
export async function searchFiles(client: AppClient, text: string, limit = 8): Promise<FileInfo[]> {
  await ensureIndex(client, ['type', 'trashed', 'name']);
  const res = (await client.collection('io.cozy.files').find(
    { type: 'file', trashed: false, name: { $regex: literalRegex(text) } },
    { indexedFields: ['type', 'trashed', 'name'], limit },
  )) as unknown as { data: Raw[] };
  return res.data.map(asFile);
}

/** The latest changed files (by updated_at), not in the trash: the query FileCollection.find makes of the same arguments. */
export async function recentFiles(client: AppClient, limit = 6): Promise<FileInfo[]> {
  const fields = ['type', 'trashed', 'updated_at'];
  await ensureIndex(client, fields);
  const res = (await client.getStackClient().fetchJSON('POST', '/files/_find', {
    selector: { type: 'file', trashed: false, updated_at: { $gt: null } }, use_index: `_design/by_${fields.join('_and_')}`,
    sort: [{ type: 'desc' }, { trashed: 'desc' }, { updated_at: 'desc' }], limit, skip: 0,
  })) as { data: Raw[] };
  return res.data.map(asFile);
}

export async function publicName(client: AppClient): Promise<string> {
  const res = (await client.getStackClient().fetchJSON('GET', '/settings/instance')) as { data: Raw };
  return str(res.data.attributes?.public_name) ?? '';
}
