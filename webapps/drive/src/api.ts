/**
 * Drive's calls to the stack's /files routes, through cozy-client's stack client (`fetchJSON`: the app token, the
 * stack's origin, FetchError with the status and the JSON-API error on failure). Resources come back flattened as
 * cozy-client's queries give them (`DriveFile`).
 */
import type { AppClient } from '../../shared/client';
import type { DriveFile } from './types';
import { ROOT_ID, TRASH_ID } from './route';
import { folderFirstPath, trashFirstPath } from './first-page';

interface Resource { id: string; type: string; meta?: { rev?: string }; attributes?: Record<string, unknown>; links?: Record<string, string>; relationships?: Record<string, unknown> }
interface ListDoc { data: Resource | Resource[]; included?: Resource[]; links?: { next?: string }; meta?: { count?: number } }

export function normalize(r: Resource): DriveFile {
  return { ...(r.attributes as object), _id: r.id, id: r.id, _type: 'io.cozy.files', _rev: r.meta?.rev, links: r.links, relationships: r.relationships } as DriveFile;
}

/** A document as the realtime feed sends it (the CouchDB document) made like a listed one. */
export function fromDoc(doc: Record<string, unknown>): DriveFile {
  return { ...doc, _type: 'io.cozy.files', id: String(doc._id) } as DriveFile;
}

/**
 * Where the next page of a folder (or of the trash) starts: after the last name listed (the stack lists a folder by
 * name; its `links.next` is `/files/<id>?page[cursor]=<last name>`). Those pages are asked for with POST /files/_find
 * (a Mango query on `dir_id` and `name`, as cozy-client's file queries do), not by following `links.next`: the
 * request carries `Authorization`, so it is preflighted, and Chromium keeps a preflight per URL; `links.next` differs
 * for each page (a preflight each), /files/_find is one URL for all the pages of every folder (one preflight per load).
 */
export interface Next { dirId: string; after: string }

const nextOf = (dirId: string, items: DriveFile[], more: boolean): Next | null => {
  const after = items.at(-1)?.name;
  return more && after !== undefined ? { dirId, after } : null;
};

export interface Page { dir?: DriveFile; items: DriveFile[]; next: Next | null; count?: number }

/** A folder's first page is small (first-page.ts: FIRST_PAGE); the next ones as large as the stack gives them. */
export const NEXT_PAGE = 100;

export class DriveApi {
  constructor(private readonly client: AppClient) {}

  private fetch<T>(method: string, path: string, body?: unknown): Promise<T> {
    return this.client.getStackClient().fetchJSON(method, path, body) as Promise<T>;
  }

  /** The NEXT_PAGE files of a folder (or of the trash) after `next.after`, by name (no `dir`, no `count`). */
  private async nextPage(next: Next): Promise<Page> {
    const doc = await this.fetch<ListDoc>('POST', '/files/_find', {
      selector: { dir_id: next.dirId, name: { $gt: next.after } }, sort: [{ dir_id: 'asc' }, { name: 'asc' }], limit: NEXT_PAGE + 1,
    });
    // one more than shown says whether there is a next page (a folder of exactly 250 files ends without an empty one)
    const data = doc.data as Resource[];
    const items = data.slice(0, NEXT_PAGE).map(normalize);
    return { items, next: nextOf(next.dirId, items, data.length > NEXT_PAGE) };
  }

  /** A folder with its first page of contents, or the page `next` points to (then without the folder). */
  async folderPage(dirId: string, next?: Next | null): Promise<Page> {
    if (next) return this.nextPage(next);
    const doc = await this.fetch<ListDoc>('GET', folderFirstPath(dirId));
    const dir = normalize(doc.data as Resource);
    const count = (dir.relationships as { contents?: { meta?: { count?: number } } } | undefined)?.contents?.meta?.count;
    const items = (doc.included ?? []).map(normalize);
    return { dir, items, next: nextOf(dirId, items, Boolean(doc.links?.next)), count };
  }

  async trashPage(next?: Next | null): Promise<Page> {
    if (next) return this.nextPage(next);
    const doc = await this.fetch<ListDoc>('GET', trashFirstPath);
    const items = (doc.data as Resource[]).map(normalize);
    return { items, next: nextOf(TRASH_ID, items, Boolean(doc.links?.next)), count: doc.meta?.count };
  }

  /** The 50 files changed last, anywhere but in the trash. */
  async recent(): Promise<DriveFile[]> {
    const doc = await this.fetch<ListDoc>('POST', '/files/_find', {
      selector: { type: 'file', trashed: false, updated_at: { $gt: null } }, sort: [{ updated_at: 'desc' }], limit: 50,
    });
    return (doc.data as Resource[]).map(normalize);
  }

  async stat(id: string): Promise<DriveFile> {
    return normalize((await this.fetch<ListDoc>('GET', `/files/${encodeURIComponent(id)}?page[limit]=1`)).data as Resource);
  }

  async statByPath(path: string): Promise<DriveFile> {
    return normalize((await this.fetch<ListDoc>('GET', `/files/metadata?Path=${encodeURIComponent(path)}`)).data as Resource);
  }

  /** The folders from the root down to `dir` (the crumbs), read by path. */
  async ancestors(dir: DriveFile): Promise<DriveFile[]> {
    if (dir._id === ROOT_ID || !dir.path) return [];
    const names = dir.path.split('/').filter(Boolean);
    const paths = names.slice(0, -1).map((_, i) => `/${names.slice(0, i + 1).join('/')}`);
    return Promise.all(paths.map((p) => this.statByPath(p)));
  }

  async createFolder(dirId: string, name: string): Promise<DriveFile> {
    return normalize((await this.fetch<ListDoc>('POST', `/files/${encodeURIComponent(dirId)}?Type=directory&Name=${encodeURIComponent(name)}`)).data as Resource);
  }

  private patch(id: string, attributes: Record<string, unknown>): Promise<ListDoc> {
    return this.fetch('PATCH', `/files/${encodeURIComponent(id)}`, { data: { type: 'io.cozy.files', id, attributes } });
  }

  async rename(id: string, name: string): Promise<void> { await this.patch(id, { name }); }
  async move(id: string, dirId: string): Promise<void> { await this.patch(id, { dir_id: dirId }); }
  /** A copy keeps its name in another folder; beside the original, or where the name is taken, the stack names it "x (copy)". */
  async copy(file: DriveFile, dirId: string): Promise<void> {
    const base = `/files/${encodeURIComponent(file._id)}/copy?DirID=${encodeURIComponent(dirId)}`;
    if (file.dir_id === dirId) { await this.fetch('POST', base); return; }
    try {
      await this.fetch('POST', `${base}&Name=${encodeURIComponent(file.name)}`);
    } catch (e) {
      if ((e as { status?: number }).status !== 409) throw e;
      await this.fetch('POST', base);
    }
  }
  async trash(id: string): Promise<void> { await this.fetch('DELETE', `/files/${encodeURIComponent(id)}`); }
  async restore(id: string): Promise<void> { await this.fetch('POST', `/files/trash/${encodeURIComponent(id)}`); }
  async destroy(id: string): Promise<void> { await this.fetch('DELETE', `/files/trash/${encodeURIComponent(id)}`); }
  async emptyTrash(): Promise<void> { await this.fetch('DELETE', '/files/trash'); }

  /** A 10-minute link to download one file (no token needed), absolute. */
  async downloadLink(id: string): Promise<string> {
    const doc = await this.fetch<{ links: { related: string } }>('POST', `/files/downloads?Id=${encodeURIComponent(id)}`);
    // Dl=1: an attachment, saved rather than shown in place of the app
    return `${this.client.getStackClient().fullpath(doc.links.related)}?Dl=1`;
  }

  /** A 10-minute link to a zip of `ids`, absolute. */
  async archiveLink(ids: string[], name: string): Promise<string> {
    const doc = await this.fetch<{ links: { related: string } }>('POST', '/files/archive', { data: { type: 'io.cozy.files.archives', attributes: { ids, name } } });
    return this.client.getStackClient().fullpath(doc.links.related);
  }
}

/** Starts a download of `url` (a link the stack signed) without leaving the page. */
export function startDownload(url: string, name?: string): void {
  const a = document.createElement('a');
  a.href = url;
  if (name) a.download = name;
  a.rel = 'noopener';
  document.body.append(a);
  a.click();
  a.remove();
}
