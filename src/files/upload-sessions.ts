/**
 * Resumable uploads (a Hearth extension; cozy-stack has none): a session names the file to create (directory, name,
 * size, MD5, type, as POST /files/:dir-id), takes its bytes in chunks appended at the offset the server holds, and
 * creates the file with the last one, through FileSystem.upload (the same document, name conflict, quota and MD5
 * checks as the cozy upload). tus.io's core protocol is the model (Upload-Offset, 409 on a wrong offset, HEAD for the
 * offset); its JavaScript servers keep their own stores on the disk or in S3 and do not fit the BlobStore interface,
 * so the small part here is written by hand.
 *
 * Each chunk is a blob of the instance's `files` area (so it works on every engine), named in the session once whole:
 * a crash mid-chunk leaves the engine's temporary file, which the next start removes (FileSystem.init), and the session
 * goes on from its last whole chunk. As with the cozy upload, a crash between a chunk made durable and the session's
 * commit leaves an orphan blob that fsck reports (recording the chunk's key before its bytes cost one more durable
 * write a chunk: bench/RESULTS-upload-sessions.md). The session is a `_local` document of io.cozy.files, listed in one index document; both
 * change under the instance's file-system lock. A session belongs to its instance (its DocStore) and to the token's
 * source (the app, konnector or OAuth client); its id is 128 random bits. At most MAX_SESSIONS are open per instance,
 * and their sizes together must fit in the quota's room. A session lasts SESSION_TTL_MS from its creation; expired
 * ones go when met, when a session is created, at the first use of the instance by a process (its start), and by the
 * housekeeping's `clean-upload-sessions` job, due at each session's expiry (jobs/workers/clean-upload-sessions.ts).
 * Once the file is created the session stays (without its chunks) for DONE_TTL_MS: a retried last chunk whose answer
 * was lost gets the file again instead of a 404.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { Conflict, NotFound, PayloadTooLarge, TooManyRequests } from '../common/errors.js';
import type { Doc } from '../data/store.js';
import type { Instance } from '../instances/types.js';
import { BlobMismatch, type BlobInfo } from './blobs/store.js';
import type { FileSystem, SourceAccount } from './fs.js';
import { FILES_DOCTYPE, validateName, type FileDoc } from './types.js';

export const SESSION_TTL_MS = 24 * 3_600_000;
export const MAX_SESSIONS = 20;
/** How long a finished session answers a retried last chunk with its file. */
export const DONE_TTL_MS = 3_600_000;
const INDEX = 'upload-sessions';
const PREFIX = 'upload-session-';
const ID = /^[0-9a-f]{32}$/;

/** What the file will be, as the cozy upload's parameters give it. */
export interface SessionTarget {
  dirId: string;
  name: string;
  size: number;
  md5?: string;
  mime?: string;
  tags?: string[];
  createdAt?: string;
  updatedAt?: string;
  executable?: boolean;
  app?: string;
  source?: SourceAccount;
}

export interface UploadSession {
  id: string;
  /** The token's source (upload-sessions' owner): the app, konnector or client that may continue it. */
  owner: string;
  target: SessionTarget;
  offset: number;
  chunks: Array<{ key: string; size: number }>;
  /** Each chunk appended: at which offset, how many bytes, when. */
  history: Array<{ offset: number; bytes: number; at: string }>;
  created_at: string;
  expires_at: string;
  /** The file created by the last chunk. */
  file_id?: string;
}

/** A wrong Upload-Offset: 409, with the offset the server holds. */
export class OffsetMismatch extends Conflict {
  constructor(readonly offset: number) {
    super(`the upload is at offset ${offset}: send the bytes from there (Upload-Offset: ${offset})`);
  }
}

const gone = () => new NotFound('no such upload session: it expired, was cancelled, or belongs to another app', 'not_found');

export class UploadSessions {
  /** The sessions this process is writing a chunk of. */
  private readonly writing = new Set<string>();
  private readonly swept = new Map<string, Promise<void>>();

  /** `opened`: told of each new session and its expiry (ms), for the housekeeping to remove it then. */
  constructor(private readonly fs: FileSystem, private readonly opened?: (instance: Instance, expiresAt: number) => void) {}

  private get now(): Date { return this.fs.clock(); }

  /** On this process's first use of an instance (after its temporary files went): removes the expired sessions. */
  ready(instance: Instance): Promise<void> {
    const known = this.swept.get(instance.id);
    if (known) return known;
    const p = this.fs.init(instance).then(async () => { await this.sweep(instance); });
    this.swept.set(instance.id, p);
    p.catch(() => this.swept.delete(instance.id));
    return p;
  }

  private async index(instance: Instance): Promise<Record<string, string>> {
    try {
      return ((await this.fs.store(instance).getLocal(FILES_DOCTYPE, INDEX)).sessions as Record<string, string> | undefined) ?? {};
    } catch (err) {
      if (err instanceof NotFound) return {};
      throw err;
    }
  }

  /** Writes a `_local` document over its current revision (callers hold the instance's lock). */
  private async put(instance: Instance, id: string, body: Doc): Promise<void> {
    const store = this.fs.store(instance);
    let rev: string | undefined;
    try {
      rev = (await store.getLocal(FILES_DOCTYPE, id))._rev as string | undefined;
    } catch (err) {
      if (!(err instanceof NotFound)) throw err;
    }
    await store.putLocal(FILES_DOCTYPE, id, { ...body, ...(rev ? { _rev: rev } : {}) });
  }

  private saveIndex(instance: Instance, sessions: Record<string, string>): Promise<void> {
    return this.put(instance, INDEX, { sessions });
  }

  private async load(instance: Instance, id: string): Promise<UploadSession | null> {
    if (!ID.test(id)) return null;
    try {
      return (await this.fs.store(instance).getLocal(FILES_DOCTYPE, PREFIX + id)).session as unknown as UploadSession;
    } catch (err) {
      if (err instanceof NotFound) return null;
      throw err;
    }
  }

  private save(instance: Instance, s: UploadSession): Promise<void> {
    return this.put(instance, PREFIX + s.id, { session: s as unknown as Doc });
  }

  /** Removes a session and its chunks (under the lock). */
  private async drop(instance: Instance, s: UploadSession): Promise<void> {
    for (const c of s.chunks) await this.fs.blobs.remove(instance.id, c.key);
    const store = this.fs.store(instance);
    try {
      await store.deleteLocal(FILES_DOCTYPE, PREFIX + s.id, (await store.getLocal(FILES_DOCTYPE, PREFIX + s.id))._rev as string);
    } catch (err) {
      if (!(err instanceof NotFound)) throw err;
    }
    const index = await this.index(instance);
    delete index[s.id];
    await this.saveIndex(instance, index);
  }

  /** Removes the expired sessions of an instance; returns how many went. */
  async sweep(instance: Instance): Promise<number> {
    return this.fs.lock(instance, async () => {
      let n = 0;
      const now = this.now.getTime();
      for (const [id, expires] of Object.entries(await this.index(instance))) {
        const s = await this.load(instance, id);
        if (!s || Date.parse(s.expires_at) <= now || Date.parse(expires) <= now) {
          if (s) await this.drop(instance, s);
          else { const index = await this.index(instance); delete index[id]; await this.saveIndex(instance, index); }
          n++;
        }
      }
      return n;
    });
  }

  /** Opens a session for a new file: 409 if the name is taken, 413 if it does not fit, 429 past MAX_SESSIONS open ones. */
  async create(instance: Instance, owner: string, target: SessionTarget): Promise<UploadSession> {
    await this.ready(instance);
    const name = validateName(target.name);
    await this.sweep(instance);
    return this.fs.lock(instance, async () => {
      const parent = await this.fs.target(instance, target.dirId);
      await this.fs.assertFreeName(instance, parent._id, name);
      const index = await this.index(instance);
      const open: UploadSession[] = [];
      for (const id of Object.keys(index)) { const s = await this.load(instance, id); if (s && !s.file_id) open.push(s); }
      if (open.length >= MAX_SESSIONS) {
        throw new TooManyRequests(`at most ${MAX_SESSIONS} upload sessions can be open at once: finish or cancel one (DELETE /files/uploads/:id)`);
      }
      const reserved = open.reduce((sum, s) => sum + s.target.size, 0);
      const room = (await this.fs.room(instance)) - reserved;
      if (target.size > room) throw new PayloadTooLarge(`the file (${target.size} bytes) does not fit in the ${Math.max(0, room)} bytes left of the quota (open uploads included)`);
      const at = this.now;
      const s: UploadSession = {
        id: randomBytes(16).toString('hex'), owner, target: { ...target, name, dirId: parent._id }, offset: 0, chunks: [], history: [],
        created_at: at.toISOString(), expires_at: new Date(at.getTime() + SESSION_TTL_MS).toISOString(),
      };
      await this.save(instance, s);
      await this.saveIndex(instance, { ...index, [s.id]: s.expires_at });
      this.opened?.(instance, Date.parse(s.expires_at));
      return s;
    });
  }

  /** The session `id` of `owner`, if it exists and has not expired (404 otherwise, whoever else owns it). */
  async get(instance: Instance, owner: string, id: string): Promise<UploadSession> {
    await this.ready(instance);
    const s = await this.load(instance, id);
    if (!s || s.owner !== owner) throw gone();
    if (Date.parse(s.expires_at) <= this.now.getTime()) {
      await this.fs.lock(instance, () => this.drop(instance, s));
      throw gone();
    }
    return s;
  }

  /** The open sessions of `owner`. */
  async list(instance: Instance, owner: string): Promise<UploadSession[]> {
    await this.ready(instance);
    const out: UploadSession[] = [];
    const now = this.now.getTime();
    for (const id of Object.keys(await this.index(instance))) {
      const s = await this.load(instance, id);
      if (s && s.owner === owner && Date.parse(s.expires_at) > now) out.push(s);
    }
    return out;
  }

  /**
   * Appends `body` at `offset` to the session `s` (from `get`): 409 if the session is elsewhere or another chunk is
   * being written, 413 past the size. `length`: the body's announced size, checked before a byte is read.
   */
  async append(instance: Instance, s: UploadSession, offset: number, body: Readable, length?: number): Promise<UploadSession> {
    const id = s.id;
    if (s.file_id || s.offset !== offset) throw new OffsetMismatch(s.offset);
    const left = s.target.size - s.offset;
    if (length !== undefined && length > left) throw new PayloadTooLarge(`the chunk (${length} bytes) goes past the file's size: ${left} bytes are left`);
    if (this.writing.has(id)) throw new Conflict('another chunk of this upload is being sent: wait for it, or ask its offset (HEAD)');
    this.writing.add(id);
    let blob: BlobInfo | null = null;
    let committed = false;
    try {
      if (length === 0) body.resume();
      else blob = await this.fs.blobs.write(instance.id, body, { maxBytes: left, ...(length === undefined ? {} : { expectedSize: length }) });
      const chunk = blob;
      // another process may have moved the session meanwhile: the offset is checked again where it is written
      return await this.fs.lock(instance, async () => {
        const now = await this.load(instance, id);
        if (!now) throw gone();
        if (now.offset !== offset || now.file_id) throw new OffsetMismatch(now.offset);
        if (!chunk || chunk.size === 0) return now;
        const next: UploadSession = {
          ...now, offset: now.offset + chunk.size, chunks: [...now.chunks, { key: chunk.key, size: chunk.size }],
          history: [...now.history, { offset: now.offset, bytes: chunk.size, at: this.now.toISOString() }],
        };
        await this.save(instance, next);
        committed = true;
        return next;
      });
    } finally {
      this.writing.delete(id);
      if (blob && !committed) await this.fs.blobs.remove(instance.id, blob.key).catch(() => undefined);
    }
  }

  /**
   * Creates the file from a complete session (offset = size), optionally under another name (after a 409). A name
   * conflict or the quota (409, 413) keeps the session for another try; bytes that do not match the MD5 (412) end it.
   */
  async finish(instance: Instance, s: UploadSession, name?: string): Promise<{ doc: FileDoc; created: boolean }> {
    if (s.file_id) return { doc: await this.fs.stat(instance, s.file_id), created: false };
    if (s.offset !== s.target.size) throw new OffsetMismatch(s.offset);
    const t = { ...s.target, ...(name === undefined ? {} : { name: validateName(name) }) };
    const blobs = this.fs.blobs;
    async function* bytes(): AsyncGenerator<Buffer> {
      for (const c of s.chunks) for await (const b of await blobs.read(instance.id, c.key, { start: 0, end: c.size - 1 })) yield b as Buffer;
    }
    let doc: FileDoc;
    try {
      doc = await this.fs.upload(instance, {
        dirId: t.dirId, name: t.name, body: Readable.from(bytes()), size: t.size,
        ...(t.md5 ? { md5: t.md5 } : {}), ...(t.mime ? { mime: t.mime } : {}), ...(t.tags ? { tags: t.tags } : {}), ...(t.createdAt ? { createdAt: t.createdAt } : {}),
        ...(t.updatedAt ? { updatedAt: t.updatedAt } : {}), ...(t.executable === undefined ? {} : { executable: t.executable }), ...(t.app ? { app: t.app } : {}),
        ...(t.source ? { source: t.source } : {}),
      });
    } catch (err) {
      if (err instanceof BlobMismatch) await this.fs.lock(instance, () => this.drop(instance, s));
      throw err;
    }
    await this.fs.lock(instance, async () => {
      const now = (await this.load(instance, s.id)) ?? s;
      const expires = new Date(Math.min(Date.parse(now.expires_at), this.now.getTime() + DONE_TTL_MS)).toISOString();
      await this.save(instance, { ...now, chunks: [], file_id: doc._id, target: t, expires_at: expires });
      await this.saveIndex(instance, { ...(await this.index(instance)), [s.id]: expires });
    });
    for (const c of s.chunks) await this.fs.blobs.remove(instance.id, c.key);
    return { doc, created: true };
  }

  /** Cancels a session: its chunks go. */
  async cancel(instance: Instance, owner: string, id: string): Promise<void> {
    const s = await this.get(instance, owner, id);
    await this.fs.lock(instance, async () => {
      const now = await this.load(instance, id);
      if (this.writing.has(id)) throw new Conflict('a chunk of this upload is being sent: abort it first');
      await this.drop(instance, now ?? s);
    });
  }

  /** The chunk keys of every open session of an instance (fsck: not orphans). */
  async chunkKeys(instance: Instance): Promise<Set<string>> {
    const keys = new Set<string>();
    for (const id of Object.keys(await this.index(instance))) {
      const s = await this.load(instance, id);
      for (const c of s?.chunks ?? []) keys.add(c.key);
    }
    return keys;
  }
}
