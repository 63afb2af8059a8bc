/**
 * Reads the parts of an export into an instance that was just reset (./reset.ts), by the rules of ./rules.ts, each
 * entry refused or left out with its reason in the report (./report.ts) rather than failing the whole import:
 * names that leave their folder, invalid doctypes or ids, documents that are not JSON objects, a file document not
 * followed by its content, a content without its document, a content whose MD5 or size differs from its document, an
 * entry larger than the bound. A part that cannot be read at all (truncated, not a zip, too many entries) is reported
 * and the next one is read; a file whose directory the archive does not hold is left out too. Triggers are created last,
 * so that nothing imported fires a job. Small contents are written while the next entries are read (a few at once),
 * each document joining its batch once its content is written, so nothing names a blob before it is whole.
 */
import { Readable } from 'node:stream';
import { HearthError } from '../../common/errors.js';
import { isDoctypeName, validateDocId } from '../../data/doctype.js';
import type { Doc, DocStore } from '../../data/store.js';
import type { FileSystem } from '../../files/fs.js';
import { ROOT_DIR_ID, TRASH_DIR_ID, validateName } from '../../files/types.js';
import type { Instance } from '../../instances/types.js';
import type { TriggerInput } from '../../jobs/scheduler.js';
import { CONTACTS_DOCTYPE, findMyself } from '../../contacts/myself.js';
import { AVATAR_LIMITS, WALLPAPER_LIMITS } from '../../settings/avatar.js';
import { parseDataEntry, parseFileEntry, FILES_DOCTYPE, VERSIONS_DOCTYPE } from '../layout.js';
import { eachEntry, readSmall, release, type ZipEntry, type ZipLimits } from './archive.js';
import { skip, type ImportReport } from './report.js';
import { ruleFor } from './rules.js';

export interface ImporterDeps {
  store: DocStore;
  fs: FileSystem;
  createTrigger(input: TriggerInput): Promise<void>;
  /** Installs an app or konnector from the registry: 'kept' when it is installed already. */
  install(kind: 'webapp' | 'konnector', slug: string): Promise<'installed' | 'kept'>;
  limits: ZipLimits & { maxDocBytes: number; maxTriggers: number };
  move: boolean;
  signal?: AbortSignal;
  progress?(what: { part: number; entries: number }): void | Promise<void>;
  /** Stores the owner's avatar from the archive (Hearth's addition to the layout), checked as an upload is. */
  avatar?(data: Buffer): Promise<void>;
  /** Stores Home's wallpaper from the archive (Hearth's addition too), checked as an upload is. */
  wallpaper?(data: Buffer): Promise<void>;
}

/**
 * Documents are written when this many of them, or this many bytes of their JSON, wait in the batches (all doctypes
 * together), one write at a time: with a disk slower than the reader (a loaded machine), the reader waits for the write
 * instead of filling more batches (before, each small content in flight could start a write of its own batch of 1,000:
 * ./bounds.test.ts). 512 is what SQLite's write queue commits at once (data/sqlite/db.ts): a batch is one transaction.
 */
export const BATCH = 512;
const BATCH_BYTES = 1024 * 1024;
/** Small contents (each at most 256 KiB, in memory) written at once while the next entries are read. */
export const IN_FLIGHT = 8;
/**
 * What the blob engine may hold of a large content at once (WriteOptions.memoryBytes): the archive is read from the
 * disk as fast as the engine takes it, so its batches are always full; 5 MiB instead of the local engine's 20 MiB
 * (bench/RESULTS-import.md).
 */
const CONTENT_MEMORY = 5 * 1024 * 1024;
const TRIGGER_FIELDS = ['type', 'arguments', 'worker', 'message', 'options', 'debounce'] as const;
/** Fields that name this server's storage or a Cozy's special folders: never taken from an archive. */
const DROPPED_FILE_FIELDS = ['_rev', 'internal_vfs_id', 'internal_thumbnails', 'referenced_by_carbon_copy'];

type Pending = { entry: string; doc: Doc; bytes: number; kind: 'file' | 'version' };
/** A document waiting in a batch, with what to do once the batch is written: counted, or refused (and undone). */
type Batched = { doc: Doc; ok?: () => void; refused?: (reason: string) => Promise<void> | void };

const reasonOf = (err: unknown): string => (err instanceof HearthError ? err.reason : err instanceof Error ? err.message : String(err));

export class Importer {
  private readonly batches = new Map<string, Batched[]>();
  /** Documents and bytes of JSON waiting in `batches`. */
  private held = { docs: 0, bytes: 0 };
  /** The batches being written: one write at a time, so that a slow disk holds the reader instead of piling batches up. */
  private writingDocs: Promise<void> | null = null;
  private readonly writing = new Set<Promise<void>>();
  private readonly apps = new Map<string, 'webapp' | 'konnector'>();
  private readonly triggers: Array<{ entry: string; doc: Doc }> = [];
  private pending: Pending | null = null;
  private used = 0;
  /** The directories imported so far (they come before the files, in part 0): a file needs its own. */
  private readonly dirs = new Set<string>([ROOT_DIR_ID, TRASH_DIR_ID]);

  constructor(private readonly instance: Instance, private readonly deps: ImporterDeps, readonly report: ImportReport) {}

  /** Reads one part (a zip on the local disk); a part that cannot be read is reported, not thrown. */
  async readPart(path: string, part: number): Promise<void> {
    let entries = 0;
    try {
      await eachEntry(path, this.deps.limits, async (entry) => {
        entries++;
        if (entries % 1000 === 0) await this.deps.progress?.({ part, entries });
        await this.onEntry(entry);
      }, this.deps.signal);
    } catch (err) {
      await this.drain();
      if (this.deps.signal?.aborted) throw err;
      skip(this.report, `part ${part}`, `the part could not be read to its end: ${reasonOf(err)}`);
    }
    await this.drain();
    this.dropPending();
    await this.flushAll();
  }

  /** After the last part: the apps reinstalled, the triggers created, the owner's contact given this instance's email. */
  async finish(): Promise<void> {
    await this.flushAll();
    // the contents were written without their own fsyncs (a crashed import starts again from scratch): durable now, once
    await this.deps.fs.blobs.sync(this.instance.id);
    for (const [slug, kind] of this.apps) {
      try {
        const done = await this.deps.install(kind, slug);
        this.report.apps[done].push(slug);
      } catch (err) {
        this.report.apps.failed.push({ slug, error: reasonOf(err).slice(0, 300) });
      }
    }
    for (const { entry, doc } of this.triggers) {
      const input: Record<string, unknown> = {};
      for (const f of TRIGGER_FIELDS) if (doc[f] !== undefined && doc[f] !== null) input[f] = doc[f];
      try {
        await this.deps.createTrigger(input as unknown as TriggerInput);
        this.report.triggers++;
      } catch (err) {
        skip(this.report, entry, `the trigger was not created: ${reasonOf(err)}`);
      }
    }
    await this.updateMyself();
  }

  private async updateMyself(): Promise<void> {
    const email = this.instance.email;
    if (!email) return;
    const me = await findMyself(this.deps.store).catch(() => null);
    if (!me) return;
    const others = Array.isArray(me.email) ? (me.email as Doc[]).filter((e) => e && e.address !== email).map((e) => ({ ...e, primary: false })) : [];
    await this.deps.store.put(CONTACTS_DOCTYPE, { ...me, email: [{ address: email, primary: true }, ...others] });
  }

  private async onEntry(entry: ZipEntry): Promise<void> {
    const name = entry.name;
    if (this.pending) {
      if (parseFileEntry(name) !== null) return this.writeContent(this.pending, entry);
      this.dropPending();
    }
    const parsed = parseDataEntry(name);
    if (parsed === null) {
      if (name.endsWith('/')) return;
      return skip(this.report, name, parseFileEntry(name) !== null ? 'a file content without its document before it' : 'outside My Cozy/Data and My Cozy/Files, or a name that leaves its folder');
    }
    if (parsed.kind === 'invalid') return skip(this.report, name, parsed.reason);
    // instance.json: the target keeps its own settings (cozy-stack does not read it either)
    if (parsed.kind === 'instance') return;
    if (parsed.kind === 'avatar' || parsed.kind === 'wallpaper') return this.onImage(entry, parsed.kind);
    const { doctype, id } = parsed;
    if (!isDoctypeName(doctype)) return skip(this.report, name, 'not a valid doctype');
    try {
      validateDocId(id);
    } catch (err) {
      return skip(this.report, name, `not a valid document id: ${reasonOf(err)}`);
    }
    const rule = ruleFor(doctype, id, { move: this.deps.move });
    if (rule.kind === 'skip') return skip(this.report, name, rule.reason);
    if (rule.kind === 'app') {
      this.apps.set(rule.slug, rule.appKind);
      return;
    }
    const doc = await this.readDoc(entry);
    if (!doc) return;
    doc._id = id;
    delete doc._rev;
    switch (rule.kind) {
      case 'trigger':
        if (this.triggers.length >= this.deps.limits.maxTriggers) return skip(this.report, name, `more than ${this.deps.limits.maxTriggers} triggers`);
        this.triggers.push({ entry: name, doc });
        return;
      case 'dir-or-file':
        return this.onFileDoc(name, doc, entry.size);
      case 'version':
        if (typeof doc.file_id !== 'string' || !id.startsWith(`${doc.file_id}/`)) return skip(this.report, name, 'a version without the id of its file');
        this.pending = { entry: name, doc, bytes: entry.size, kind: 'version' };
        return;
      default:
        return this.add(doctype, doc, entry.size);
    }
  }

  private async readDoc(entry: ZipEntry): Promise<Doc | null> {
    let raw: Buffer | null;
    try {
      raw = await readSmall(entry, this.deps.limits.maxDocBytes);
    } catch (err) {
      skip(this.report, entry.name, `unreadable: ${reasonOf(err)}`);
      return null;
    }
    if (!raw) {
      skip(this.report, entry.name, `a document larger than ${this.deps.limits.maxDocBytes} bytes`);
      return null;
    }
    try {
      const doc: unknown = JSON.parse(raw.toString('utf8'));
      if (doc && typeof doc === 'object' && !Array.isArray(doc)) return doc as Doc;
    } catch {
      // said below
    }
    skip(this.report, entry.name, 'not a JSON object');
    return null;
  }

  private async onImage(entry: ZipEntry, kind: 'avatar' | 'wallpaper'): Promise<void> {
    const store = this.deps[kind];
    if (!store) return;
    const { maxBytes } = kind === 'avatar' ? AVATAR_LIMITS : WALLPAPER_LIMITS;
    try {
      const raw = await readSmall(entry, maxBytes);
      if (!raw) return skip(this.report, entry.name, `the ${kind} is larger than ${maxBytes} bytes`);
      await store(raw);
    } catch (err) {
      skip(this.report, entry.name, `the ${kind} was not kept: ${reasonOf(err)}`);
    }
  }

  private async onFileDoc(name: string, doc: Doc, bytes: number): Promise<void> {
    const id = String(doc._id);
    if (doc.type === 'directory') {
      if (id === ROOT_DIR_ID || id === TRASH_DIR_ID) return;
      try {
        validateName(doc.name);
        if (typeof doc.path !== 'string' || !doc.path.startsWith('/') || typeof doc.dir_id !== 'string') throw new Error('a directory without its path or parent');
        for (const f of DROPPED_FILE_FIELDS) delete doc[f];
      } catch (err) {
        return skip(this.report, name, `the directory was not created: ${reasonOf(err)}`);
      }
      this.dirs.add(id);
      return this.add(FILES_DOCTYPE, doc, bytes, { ok: () => this.report.dirs++, refused: (reason) => skip(this.report, name, `the directory was not created: ${reason}`) });
    }
    if (doc.type !== 'file') return skip(this.report, name, 'neither a file nor a directory');
    try {
      validateName(doc.name);
    } catch (err) {
      return skip(this.report, name, reasonOf(err));
    }
    if (typeof doc.dir_id !== 'string') return skip(this.report, name, 'a file without its directory');
    // a file moved into a directory made after part 0 of its export was read, for one: it would be in no folder
    if (!this.dirs.has(doc.dir_id)) return skip(this.report, name, 'a file whose directory is not in the archive');
    this.pending = { entry: name, doc, bytes, kind: 'file' };
  }

  private dropPending(): void {
    if (this.pending) skip(this.report, this.pending.entry, 'a file document not followed by its content');
    this.pending = null;
  }

  /**
   * A file's content: checked (size, MD5) and written as a blob no document names yet, then its document joins a batch.
   * A small entry, already in memory once read, is written while the next entries are read (at most IN_FLIGHT at once:
   * their thread-pool trips overlap); a large one is streamed before the next entry is read.
   */
  private async writeContent(p: Pending, entry: ZipEntry): Promise<void> {
    this.pending = null;
    const max = this.room();
    if (entry.size > max) return skip(this.report, entry.name, `a content of ${entry.size} bytes, over the ${max} bytes allowed`);
    // reserved now: the contents in flight count in the quota of the next ones
    this.used += entry.size;
    let body: Readable;
    let data: Buffer | null = null;
    try {
      // a small entry's bytes, freed once written (./archive.ts `release`)
      if (entry.whole) data = await entry.whole();
      body = data ? Readable.from(data.length ? [data] : []) : await entry.open();
    } catch (err) {
      this.used -= entry.size;
      return skip(this.report, entry.name, `the content was not written: ${reasonOf(err)}`);
    }
    const write = this.store(p, entry, body, max).finally(() => {
      this.writing.delete(write);
      if (data) release(data);
    });
    this.writing.add(write);
    if (!entry.whole) await write;
    else if (this.writing.size >= IN_FLIGHT) await Promise.race(this.writing);
  }

  /** Writes one content and batches its document; never rejects (what fails is in the report). */
  private async store(p: Pending, entry: ZipEntry, body: Readable, max: number): Promise<void> {
    const { doc } = p;
    const size = Number(doc.size);
    const md5 = typeof doc.md5sum === 'string' && doc.md5sum ? doc.md5sum : undefined;
    let blob;
    try {
      blob = await this.deps.fs.blobs.write(this.instance.id, body, { maxBytes: max, deferSync: true, memoryBytes: CONTENT_MEMORY, ...(Number.isSafeInteger(size) && size >= 0 ? { expectedSize: size } : {}), ...(md5 ? { expectedMd5: md5 } : {}) });
    } catch (err) {
      this.used -= entry.size;
      return skip(this.report, entry.name, `the content was not written: ${reasonOf(err)}`);
    }
    for (const f of DROPPED_FILE_FIELDS) delete doc[f];
    const next: Doc = { ...doc, size: String(blob.size), md5sum: blob.md5, internal_vfs_id: blob.key };
    const { key, size: bytes } = blob;
    this.used += bytes - entry.size;
    // committed with the next documents of the batch: one transaction for many files
    await this.add(p.kind === 'file' ? FILES_DOCTYPE : VERSIONS_DOCTYPE, next, p.bytes, {
      ok: () => (p.kind === 'file' ? this.report.files++ : this.report.versions++),
      refused: async (reason) => {
        this.used -= bytes;
        await this.deps.fs.blobs.remove(this.instance.id, key);
        skip(this.report, p.entry, `the ${p.kind} was not created: ${reason}`);
      },
    }).catch((err: unknown) => skip(this.report, p.entry, `the ${p.kind} was not created: ${reasonOf(err)}`));
  }

  /** Waits for the contents in flight (their documents then wait in their batches). */
  private async drain(): Promise<void> {
    while (this.writing.size) await Promise.all(this.writing);
  }

  /** Bytes an entry may have: the bound, and what the quota leaves. */
  private room(): number {
    const quota = this.instance.diskQuota === null ? Number.MAX_SAFE_INTEGER : Math.max(0, this.instance.diskQuota - this.used);
    return Math.min(this.deps.limits.maxEntryBytes, quota);
  }

  /** Adds a document to its batch; past the bound, waits for the batches to be written (back-pressure on the reader). */
  private async add(doctype: string, doc: Doc, bytes: number, then: Omit<Batched, 'doc'> = {}): Promise<void> {
    let batch = this.batches.get(doctype);
    if (!batch) this.batches.set(doctype, (batch = []));
    batch.push({ doc, ...then });
    this.held.docs++;
    this.held.bytes += bytes;
    while (this.held.docs >= BATCH || this.held.bytes >= BATCH_BYTES) {
      // a write is running: the batches wait (the contents in flight, at most IN_FLIGHT, may add one each meanwhile)
      if (this.writingDocs) await this.writingDocs;
      else await this.flushAll();
    }
  }

  /** Writes every batch, after the write in progress. */
  private async flushAll(): Promise<void> {
    while (this.writingDocs) await this.writingDocs;
    const taken = [...this.batches];
    if (!taken.length) return;
    this.batches.clear();
    this.held = { docs: 0, bytes: 0 };
    const run = (async () => {
      for (const [doctype, items] of taken) await this.flush(doctype, items);
    })();
    this.writingDocs = run.finally(() => (this.writingDocs = null));
    await this.writingDocs;
  }

  private async flush(doctype: string, items: Batched[]): Promise<void> {
    let results: Awaited<ReturnType<DocStore['bulkDocs']>>;
    try {
      results = await this.deps.store.bulkDocs(doctype, items.map((i) => i.doc), true);
    } catch (err) {
      for (const item of items) await this.refuse(doctype, item, reasonOf(err));
      return;
    }
    for (const [n, item] of items.entries()) {
      const r = results[n];
      if (!r || ('error' in r && r.error)) await this.refuse(doctype, item, String(r?.reason ?? r?.error ?? 'no result'));
      else if (item.ok) item.ok();
      else this.report.docs++;
    }
  }

  private async refuse(doctype: string, item: Batched, reason: string): Promise<void> {
    if (item.refused) await item.refused(reason);
    else skip(this.report, `${doctype}/${String(item.doc._id)}`, `not inserted: ${reason}`);
  }
}
