/**
 * The upload queue: files (and the folders they came in, created first) sent two at a time to
 * `POST /files/:dirId?Type=file&Name=…` by XMLHttpRequest, for its upload progress, with the app token and
 * Content-MD5 / Content-Type as cozy-client sends them; from 8 MiB on, through a resumable upload session in 8 MiB chunks
 * (chunked.ts), so that a pause or a lost connection costs at most the chunk in flight. Pause (what is sending goes
 * back to the queue), resume, cancel one or all, retry a failed one; a name conflict (409) waits for the person:
 * replace, keep both, or skip.
 */
import { normalize } from '../api';
import type { DriveFile } from '../types';
import type { Picked } from './picked';
import { sendChunked, SESSION_FROM_BYTES, type Answer, type ChunkedTarget } from './chunked';

export type Status = 'queued' | 'uploading' | 'done' | 'error' | 'conflict' | 'canceled' | 'skipped';

export interface UploadItem {
  id: number;
  file: File;
  /** the name it gets (changes when the person keeps both) */
  name: string;
  /** its folder inside what was dropped ('' at the top) */
  folder: string;
  status: Status;
  loaded: number;
  /** the failure as the stack described it (status, JSON-API error) */
  failure?: { status?: number; reason?: unknown; message?: string };
  /** keep both: a 409 picks the next free name by itself */
  renameOnConflict?: boolean;
  replace?: boolean;
  /** a large file's upload session and the bytes the server holds (chunked.ts) */
  session?: string;
  offset?: number;
  md5?: string;
}

interface Target { dirId: string; path: string }
interface Batch { target: Target; dirs: Promise<Map<string, Target>> }

export interface Stack {
  origin: string;
  token(): string;
  /** cozy-client's fetchJSON, for folders and look-ups */
  fetchJSON(method: string, path: string): Promise<{ data: { id: string; attributes: { path?: string } } }>;
}

const CONCURRENCY = 2;
const CHUNK = 4 * 1024 * 1024;

/** spark-md5 is a chunk loaded by the first upload: its module hashes a test string when it loads, work Drive's first render has no use for. */
async function md5Base64(file: File): Promise<string> {
  const { default: SparkMD5 } = await import('spark-md5');
  const spark = new SparkMD5.ArrayBuffer();
  for (let at = 0; at < file.size; at += CHUNK) spark.append(await file.slice(at, at + CHUNK).arrayBuffer());
  return btoa(spark.end(true));
}

export const joinPath = (dir: string, name: string): string => (dir === '/' ? `/${name}` : `${dir}/${name}`);

/** `photo.jpg` → `photo (2).jpg` → `photo (3).jpg` */
export function nextName(name: string): string {
  const dot = name.lastIndexOf('.');
  const [base, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
  const m = /^(.*) \((\d+)\)$/.exec(base);
  return m ? `${m[1]} (${Number(m[2]) + 1})${ext}` : `${base} (2)${ext}`;
}

export class UploadQueue {
  items: UploadItem[] = [];
  paused = false;
  private next = 1;
  private batches = new Map<number, Batch>();
  private running = new Map<number, XMLHttpRequest>();
  private listeners = new Set<() => void>();
  private uploaded = new Set<(f: DriveFile) => void>();
  private scheduled = false;

  constructor(private readonly stack: Stack) {}

  subscribe(fn: () => void): () => void { this.listeners.add(fn); return () => this.listeners.delete(fn); }
  onUploaded(fn: (f: DriveFile) => void): () => void { this.uploaded.add(fn); return () => this.uploaded.delete(fn); }

  private changed(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame(() => { this.scheduled = false; for (const l of this.listeners) l(); });
  }

  /** Queues `picked` into the folder `target`; the folders they came in are created first, in order. */
  add(picked: Picked[], target: Target): void {
    if (picked.length === 0) return;
    const folders = [...new Set(picked.map((p) => p.folder).filter(Boolean))].sort();
    const batch: Batch = { target, dirs: this.createFolders(target, folders) };
    batch.dirs.catch(() => undefined);
    for (const p of picked) {
      const item: UploadItem = { id: this.next++, file: p.file, name: p.file.name, folder: p.folder, status: 'queued', loaded: 0 };
      this.items.push(item);
      this.batches.set(item.id, batch);
    }
    this.changed();
    this.pump();
  }

  private async createFolders(target: Target, folders: string[]): Promise<Map<string, Target>> {
    const made = new Map<string, Target>([['', target]]);
    const ensure = async (rel: string): Promise<Target> => {
      const known = made.get(rel);
      if (known) return known;
      const cut = rel.lastIndexOf('/');
      const parent = await ensure(cut < 0 ? '' : rel.slice(0, cut));
      const name = rel.slice(cut + 1);
      let doc;
      try {
        doc = await this.stack.fetchJSON('POST', `/files/${encodeURIComponent(parent.dirId)}?Type=directory&Name=${encodeURIComponent(name)}`);
      } catch (e) {
        if ((e as { status?: number }).status !== 409) throw e;
        doc = await this.stack.fetchJSON('GET', `/files/metadata?Path=${encodeURIComponent(joinPath(parent.path, name))}`);
      }
      const t = { dirId: doc.data.id, path: doc.data.attributes.path ?? joinPath(parent.path, name) };
      made.set(rel, t);
      return t;
    };
    for (const f of folders) await ensure(f);
    return made;
  }

  get active(): boolean { return this.items.some((i) => i.status === 'queued' || i.status === 'uploading'); }

  pause(): void {
    this.paused = true;
    for (const [id, xhr] of this.running) {
      this.running.delete(id);
      xhr.abort();
      const item = this.items.find((i) => i.id === id);
      if (item) { item.status = 'queued'; item.loaded = item.offset ?? 0; }
    }
    this.changed();
  }

  resume(): void { this.paused = false; this.changed(); this.pump(); }

  cancel(id: number): void {
    const item = this.items.find((i) => i.id === id);
    if (!item || item.status === 'done') return;
    const xhr = this.running.get(id);
    this.running.delete(id);
    xhr?.abort();
    item.status = 'canceled';
    this.forget(item);
    this.changed();
    this.pump();
  }

  cancelAll(): void { for (const i of this.items) if (i.status !== 'done' && i.status !== 'skipped') this.cancel(i.id); }

  retry(id: number): void {
    const item = this.items.find((i) => i.id === id);
    if (!item) return;
    Object.assign(item, { status: 'queued', loaded: item.offset ?? 0, failure: undefined });
    this.changed();
    this.pump();
  }

  resolve(id: number, how: 'replace' | 'keep' | 'skip'): void {
    const item = this.items.find((i) => i.id === id);
    if (!item || item.status !== 'conflict') return;
    if (how === 'skip') { item.status = 'skipped'; this.forget(item); this.changed(); return; }
    if (how === 'keep') { item.renameOnConflict = true; item.name = nextName(item.name); }
    else { item.replace = true; this.forget(item); } // a replace goes whole to PUT /files/:id: the session's bytes go
    this.retry(id);
  }

  /** Forgets what is over (done, canceled, skipped). */
  clear(): void {
    this.items = this.items.filter((i) => i.status === 'queued' || i.status === 'uploading' || i.status === 'error' || i.status === 'conflict');
    this.changed();
  }

  private pump(): void {
    if (this.paused) return;
    while (this.running.size < CONCURRENCY) {
      const item = this.items.find((i) => i.status === 'queued' && !this.running.has(i.id));
      if (!item) return;
      item.status = 'uploading';
      // the slot is held while the folders are made and the sum computed
      this.running.set(item.id, new XMLHttpRequest());
      void this.send(item);
    }
  }

  private async send(item: UploadItem): Promise<void> {
    // this attempt's slot: a cancel then a retry during the awaits below start another attempt, which this one must leave alone
    let slot = this.running.get(item.id);
    const mine = () => slot !== undefined && this.running.get(item.id) === slot;
    const batch = this.batches.get(item.id);
    try {
      if (!batch) throw new Error('no target');
      const dir = (await batch.dirs).get(item.folder);
      if (!dir) throw new Error('no folder');
      const md5 = item.md5 ?? await md5Base64(item.file);
      item.md5 = md5;
      if (!mine()) return;
      const res = item.replace || item.file.size < SESSION_FROM_BYTES ? await this.sendWhole(item, dir, md5, mine, (xhr) => { slot = xhr; }) : await this.sendInChunks(item, dir, md5, (xhr) => { slot = xhr; });
      if (res === null || !mine()) return;
      this.running.delete(item.id);
      this.settle(item, res);
    } catch (e) {
      if (!mine()) return;
      this.running.delete(item.id);
      const err = e as { status?: number; reason?: unknown; message?: string };
      item.failure = { status: err.status, reason: err.reason, message: err.message };
      item.status = 'error';
    }
    this.changed();
    this.pump();
  }

  /** The whole file in one request (the cozy route): POST, or PUT over the file it replaces. */
  private async sendWhole(item: UploadItem, dir: Target, md5: string, mine: () => boolean, taken: (xhr: XMLHttpRequest) => void): Promise<Answer | null> {
    let url = `${this.stack.origin}/files/${encodeURIComponent(dir.dirId)}?Type=file&Name=${encodeURIComponent(item.name)}&Size=${item.file.size}`;
    let method = 'POST';
    if (item.replace) {
      const existing = await this.stack.fetchJSON('GET', `/files/metadata?Path=${encodeURIComponent(joinPath(dir.path, item.name))}`);
      if (!mine()) return null;
      url = `${this.stack.origin}/files/${encodeURIComponent(existing.data.id)}?Size=${item.file.size}`;
      method = 'PUT';
    }
    const headers = { 'Content-Type': item.file.type || 'application/octet-stream', 'Content-MD5': md5 };
    return this.xhr(item, method, url, headers, item.file, (loaded) => { item.loaded = loaded; this.changed(); }, taken);
  }

  /** A large file through its upload session, resumed from the server's offset. */
  private async sendInChunks(item: UploadItem, dir: Target, md5: string, taken: (xhr: XMLHttpRequest) => void): Promise<Answer | null> {
    // the session and the offset live on the item: a pause in the middle keeps them (and the progress) as they are
    const t: ChunkedTarget = {
      file: item.file, name: item.name, dirId: dir.dirId, md5,
      get session() { return item.session; },
      set session(v) { item.session = v; },
      get offset() { return item.offset; },
      set offset(v) { item.offset = v; },
      request: (method, url, headers, body, progress) => this.xhr(item, method, url, headers, body, progress, taken),
      progressed: (loaded) => { item.loaded = loaded; this.changed(); },
    };
    return sendChunked(this.stack.origin, t);
  }

  /** Cancels a large file's session on the server (its bytes go there). */
  private forget(item: UploadItem): void {
    const session = item.session;
    if (!session) return;
    Object.assign(item, { session: undefined, offset: undefined });
    // the server refuses (409) while it still writes the chunk just aborted: asked again a little later
    const drop = async (tries: number): Promise<void> => {
      const res = await fetch(`${this.stack.origin}/files/uploads/${session}`, { method: 'DELETE', credentials: 'include', headers: { Authorization: `Bearer ${this.stack.token()}` } });
      if (res.status === 409 && tries > 1) { await new Promise((r) => setTimeout(r, 1000)); await drop(tries - 1); }
    };
    void drop(5).catch(() => undefined);
  }

  private settle(item: UploadItem, res: Answer): void {
    if (res.status === 201 || res.status === 200) {
      Object.assign(item, { status: 'done', loaded: item.file.size, session: undefined, offset: undefined });
      try {
        const f = normalize(JSON.parse(res.text).data);
        for (const l of this.uploaded) l(f);
      } catch { /* the listing's realtime feed brings it anyway */ }
    } else if (res.status === 409 && item.renameOnConflict) {
      item.name = nextName(item.name);
      item.status = 'queued';
    } else {
      let reason: unknown = null;
      try { reason = JSON.parse(res.text); } catch { /* not JSON: the status says enough */ }
      item.failure = { status: res.status, reason };
      item.status = res.status === 409 ? 'conflict' : 'error';
      // a session that failed otherwise than on its name (quota, MD5…) is over: a retry starts anew
      if (res.status !== 409) this.forget(item);
    }
  }

  /** The request, or null when it was aborted (pause, cancel). */
  private xhr(
    item: UploadItem, method: string, url: string, headers: Record<string, string>, body: Blob | null, progress: ((loaded: number) => void) | undefined, taken: (xhr: XMLHttpRequest) => void,
  ): Promise<Answer | null> {
    return new Promise((done, fail) => {
      const xhr = new XMLHttpRequest();
      if (!this.running.has(item.id)) { done(null); return; }
      this.running.set(item.id, xhr);
      taken(xhr);
      xhr.open(method, url);
      // the app token is bound to the session that opened the app: its cookie goes along, as with cozy-client's fetch
      xhr.withCredentials = true;
      xhr.setRequestHeader('Authorization', `Bearer ${this.stack.token()}`);
      for (const [k, v] of Object.entries(headers)) xhr.setRequestHeader(k, v);
      if (progress) xhr.upload.onprogress = (e) => progress(e.loaded);
      xhr.onload = () => done({ status: xhr.status, text: xhr.responseText, header: (name) => xhr.getResponseHeader(name) });
      xhr.onabort = () => done(null);
      xhr.onerror = () => fail(new TypeError('network error'));
      xhr.send(body);
    });
  }
}
