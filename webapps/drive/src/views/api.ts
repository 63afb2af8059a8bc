/**
 * The stack calls of Drive's views that no cozy-client collection covers as they need: a file as a DriveFile, the
 * 10-minute download links that <img>, <video>, <iframe> and the browser's download use (no token in a URL), the
 * first bytes of a text file, the share links (io.cozy.permissions) of a file.
 */
import type { AppClient } from '../../../shared/client';
import type { DriveFile } from '../types';

export interface Resource { id: string; type: string; attributes?: Record<string, unknown>; meta?: { rev?: string }; links?: Record<string, string>; relationships?: DriveFile['relationships'] }

type Fetch = (method: string, path: string, body?: unknown) => Promise<unknown>;
const fetchJSON = (client: AppClient): Fetch => {
  const stack = client.getStackClient() as unknown as { fetchJSON: Fetch };
  return (method, path, body) => stack.fetchJSON(method, path, body);
};

/** A JSON-API io.cozy.files resource as the flat document cozy-client queries give. */
export function toDriveFile(r: Resource): DriveFile {
  return { ...(r.attributes as Partial<DriveFile>), _id: r.id, id: r.id, _type: 'io.cozy.files', ...(r.meta?.rev ? { _rev: r.meta.rev } : {}), ...(r.links ? { links: r.links } : {}), ...(r.relationships ? { relationships: r.relationships } : {}) } as DriveFile;
}

export interface VersionDoc { id: string; size: number; updated_at?: string; created_at?: string; tags?: string[] }

/** GET /files/:id: the file (or folder, with its first page of children) and its old versions, newest first. */
export async function getFile(client: AppClient, id: string): Promise<{ file: DriveFile; included: Resource[] }> {
  const res = (await fetchJSON(client)('GET', `/files/${encodeURIComponent(id)}`)) as { data: Resource; included?: Resource[] };
  return { file: toDriveFile(res.data), included: res.included ?? [] };
}

/** Every child of a folder (following the pages). */
export async function listFolder(client: AppClient, dirId: string): Promise<DriveFile[]> {
  const out: DriveFile[] = [];
  let path: string | undefined = `/files/${encodeURIComponent(dirId)}?page[limit]=100`;
  for (let i = 0; path && i < 100; i++) {
    const res = (await fetchJSON(client)('GET', path)) as { included?: Resource[]; links?: { next?: string } };
    out.push(...(res.included ?? []).map(toDriveFile));
    path = res.links?.next;
  }
  return out;
}

export async function versionsOf(client: AppClient, id: string): Promise<VersionDoc[]> {
  const { included } = await getFile(client, id);
  return included.filter((r) => r.type === 'io.cozy.files.versions').map((r) => ({ id: r.id, ...(r.attributes as Omit<VersionDoc, 'id'>), size: Number(r.attributes?.size ?? 0) }));
}

export async function revertVersion(client: AppClient, fileId: string, versionId: string): Promise<void> {
  await fetchJSON(client)('POST', `/files/revert/${encodeURIComponent(fileId)}/${encodeURIComponent(versionId)}`);
}

/** An absolute link to the content that works without a token for 10 minutes (`Dl=1`: as an attachment). */
export async function downloadLink(client: AppClient, target: { id: string } | { versionId: string }, attachment = false): Promise<string> {
  const q = 'id' in target ? `Id=${encodeURIComponent(target.id)}` : `VersionId=${encodeURIComponent(target.versionId)}`;
  const res = (await fetchJSON(client)('POST', `/files/downloads?${q}`)) as { links: { related: string } };
  return `${client.getStackClient().uri}${res.links.related}${attachment ? '?Dl=1' : ''}`;
}

/** A link to a zip of the folders and files `ids`, named `name`.zip. */
export async function archiveLink(client: AppClient, ids: string[], name: string): Promise<string> {
  const res = (await fetchJSON(client)('POST', '/files/archive', { data: { type: 'io.cozy.archives', attributes: { name, files: [], ids } } })) as { links: { related: string } };
  return `${client.getStackClient().uri}${res.links.related}`;
}

/** Starts the browser's download of `url` (a link with Content-Disposition: attachment). */
export function startDownload(url: string, name: string): void {
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.rel = 'noopener';
  document.body.append(a);
  a.click();
  a.remove();
}

/** The first `max` bytes of a file as text (the rest is never read). */
export async function readText(url: string, max: number): Promise<{ text: string; truncated: boolean }> {
  const res = await fetch(url);
  if (!res.ok || !res.body) throw Object.assign(new Error(`download failed: ${res.status}`), { status: res.status });
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let n = 0;
  let truncated = false;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    n += value.length;
    if (n >= max) { truncated = true; await reader.cancel(); break; }
  }
  const all = new Uint8Array(Math.min(n, max));
  let at = 0;
  for (const c of chunks) { const part = c.subarray(0, all.length - at); all.set(part, at); at += part.length; if (at >= all.length) break; }
  return { text: new TextDecoder().decode(all), truncated };
}

/** A share link; `madeBy`: the slug of the other app that made it (none when Drive did). */
export interface ShareLink { id: string; fileIds: string[]; code: string; password: boolean; expiresAt?: string; createdAt?: string; madeBy?: string }

function toLink(r: Resource): ShareLink {
  const a = (r.attributes ?? {}) as { permissions?: Record<string, { values?: string[] }>; shortcodes?: Record<string, string>; codes?: Record<string, string>; password?: unknown; expires_at?: string; source_id?: string; cozyMetadata?: { createdAt?: string } };
  const fileIds = Object.values(a.permissions ?? {}).flatMap((p) => p.values ?? []);
  const code = Object.values(a.shortcodes ?? {})[0] ?? Object.values(a.codes ?? {})[0] ?? '';
  const app = /^io\.cozy\.apps\/(.+)$/.exec(a.source_id ?? '')?.[1];
  return {
    id: r.id, fileIds, code, password: !!a.password, ...(a.expires_at ? { expiresAt: a.expires_at } : {}), ...(a.cozyMetadata?.createdAt ? { createdAt: a.cozyMetadata.createdAt } : {}),
    ...(app && app !== 'drive' ? { madeBy: app } : {}),
  };
}

/** Every link the owner shared on io.cozy.files (following the pages). */
export async function allShareLinks(client: AppClient): Promise<ShareLink[]> {
  const out: ShareLink[] = [];
  let path: string | undefined = '/permissions/doctype/io.cozy.files/shared-by-link?page[limit]=100';
  for (let i = 0; path && i < 100; i++) {
    const res = (await fetchJSON(client)('GET', path)) as { data: Resource[]; links?: { next?: string } };
    out.push(...res.data.map(toLink));
    path = res.links?.next;
  }
  return out;
}

/** A read-only link on one file or folder, with an optional password and expiry (ISO date). */
export async function createShareLink(client: AppClient, fileId: string, o: { password?: string; expiresAt?: string }): Promise<ShareLink> {
  const attributes: Record<string, unknown> = { permissions: { files: { type: 'io.cozy.files', verbs: ['GET'], values: [fileId] } } };
  if (o.password) attributes.password = o.password;
  if (o.expiresAt) attributes.expires_at = o.expiresAt;
  const res = (await fetchJSON(client)('POST', '/permissions?codes=link', { data: { type: 'io.cozy.permissions', attributes } })) as { data: Resource };
  return toLink(res.data);
}

export async function revokeShareLink(client: AppClient, id: string): Promise<void> {
  await fetchJSON(client)('DELETE', `/permissions/${encodeURIComponent(id)}`);
}

/** The public page a link opens: Drive's `/public` route with the share code. */
export function publicUrl(appUrl: (slug: string, path?: string) => string, code: string): string {
  return appUrl('drive', `public?sharecode=${encodeURIComponent(code)}`);
}

/** What a preview can show of a file. */
export type Kind = 'image' | 'pdf' | 'text' | 'audio' | 'video' | 'other';
const TEXT_MIME = /^(text\/|application\/(json|xml|javascript|x-sh|x-yaml|yaml|toml|x-httpd-php|sql|csv))/;
export function kindOf(f: DriveFile): Kind {
  const mime = String(f.mime ?? '');
  if (f.class === 'image' || mime.startsWith('image/')) return 'image';
  if (mime === 'application/pdf' || f.class === 'pdf') return 'pdf';
  if (mime.startsWith('audio/') || f.class === 'audio') return 'audio';
  if (mime.startsWith('video/') || f.class === 'video') return 'video';
  if (TEXT_MIME.test(mime) || f.class === 'text' || /\.(txt|md|csv|json|log|ya?ml|toml|ini|xml|js|ts|css|html?|py|sh|go|rs|c|h)$/i.test(f.name)) return 'text';
  return 'other';
}

/** The names of files and folders by id, in one request (/data's _all_docs); a deleted one is missing. */
export async function namesOf(client: AppClient, ids: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (ids.length === 0) return out;
  const res = (await fetchJSON(client)('POST', '/data/io.cozy.files/_all_docs?include_docs=true', { keys: ids })) as { rows: { id?: string; doc?: { name?: string; trashed?: boolean } | null }[] };
  for (const row of res.rows) if (row.id && row.doc?.name) out.set(row.id, row.doc.name);
  return out;
}

const PHOTOS_INDEX = { index: { fields: ['class', 'trashed', 'metadata.datetime'] }, ddoc: '_design/drive-photos', name: 'by-datetime' };
let photosIndex: Promise<unknown> | undefined;

/**
 * One page of the photos, newest taken first: a Mango query on io.cozy.files (class image, not trashed) sorted by
 * `metadata.datetime` (the EXIF date, which the stack sets to the upload's date when the photo has none), on its own
 * index. `cursor` is the previous page's bookmark.
 */
export async function photosPage(client: AppClient, limit: number, cursor?: string): Promise<{ photos: DriveFile[]; next?: string }> {
  const f = fetchJSON(client);
  photosIndex ??= f('POST', '/data/io.cozy.files/_index', PHOTOS_INDEX).catch((e: unknown) => { photosIndex = undefined; throw e; });
  await photosIndex;
  const body = {
    selector: { class: 'image', trashed: false, 'metadata.datetime': { $gt: null } },
    sort: [{ class: 'desc' }, { trashed: 'desc' }, { 'metadata.datetime': 'desc' }],
    use_index: '_design/drive-photos',
    limit,
    ...(cursor ? { bookmark: cursor } : {}),
  };
  const res = (await f('POST', '/files/_find', body)) as { data: Resource[]; links?: { next?: string } };
  const next = res.links?.next ? new URL(res.links.next, 'http://x').searchParams.get('page[cursor]') ?? undefined : undefined;
  return { photos: res.data.map(toDriveFile), ...(next ? { next } : {}) };
}

/** When a photo was taken: its EXIF date, else its creation. */
export const takenAt = (f: DriveFile): string => String(f.metadata?.datetime ?? f.created_at ?? '');
