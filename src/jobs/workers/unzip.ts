/**
 * The `unzip` worker (cozy-stack's worker/archive): `{zip: fileId, destination: dirId}` extracts the archive into
 * the directory, each file streamed from the zip's blob (read by ranges, never whole) into a VFS upload.
 * Before anything is written, every entry of the central directory is checked: names that would escape
 * (absolute, "..") or that the VFS refuses fail the job with the list of them; so do more than `maxEntries`
 * entries, or declared sizes over `maxBytes` or over what the quota leaves. While extracting, yauzl checks that
 * each entry inflates to its declared size (a lying "zip bomb" fails), and the upload checks the quota and
 * leaves no half file. Names already taken get cozy-stack's " - conflict - <unix time>" suffix.
 * A retry (after a crash or a timeout) is idempotent: the conflict suffix is the time the job was queued, the
 * same on every try, and an entry already extracted by this job (a file at its name, uploaded since the job was
 * queued, with the entry's size and MD5) is skipped instead of being copied again.
 */
import { createHash } from 'node:crypto';
import { pipeline, PassThrough, type Readable } from 'node:stream';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { Conflict, HearthError } from '../../common/errors.js';
import type { FileSystem } from '../../files/fs.js';
import { isDir, validateName, type FileDoc } from '../../files/types.js';
import type { Vfs } from '../../files/vfs.js';
import type { Instance } from '../../instances/types.js';
import { PermanentJobError, type JobContext, type WorkerDef } from '../types.js';
import { CPUS, argString, argsObject, assertJobCreate, checkAborted, jobFileRights, liveFile, permanentIfClientError, type RightsNow } from './common.js';

export interface UnzipDeps {
  vfs: Vfs;
  /** The rights of the job's token as they are now (a revoked app keeps none). */
  rightsNow?: RightsNow;
  /** At most this many entries (files and directories) in an archive (default 10,000). */
  maxEntries?: number;
  /** At most this many bytes, uncompressed, in an archive (default 10 GiB; the quota applies too). */
  maxBytes?: number;
}

/** Reads of the central directory go through a 64 KiB window: one blob read for many small ones. */
const WINDOW = 64 * 1024;

/** yauzl's random access to the zip's blob, by byte ranges of the VFS. */
class BlobReader extends yauzl.RandomAccessReader {
  private window: { start: number; data: Buffer } | null = null;

  constructor(private readonly fs: FileSystem, private readonly instance: Instance, private readonly doc: FileDoc, private readonly size: number) {
    super();
  }

  override _readStreamForRange(start: number, end: number): Readable {
    const out = new PassThrough();
    this.fs.open(this.instance, this.doc, { start, end: end - 1 }).then((s) => pipeline(s, out, () => undefined), (e: Error) => out.destroy(e));
    return out;
  }

  override read(buffer: Buffer, offset: number, length: number, position: number, cb: (err: Error | null) => void): void {
    const w = this.window;
    if (length === 0 || (w && position >= w.start && position + length <= w.start + w.data.length)) {
      if (w && length > 0) w.data.copy(buffer, offset, position - w.start, position - w.start + length);
      setImmediate(cb, null);
      return;
    }
    const end = Math.min(this.size, position + Math.max(length, WINDOW));
    void this.fs.open(this.instance, this.doc, { start: position, end: end - 1 })
      .then(async (s) => Buffer.concat(await s.toArray()))
      .then((data) => {
        if (data.length < length) return cb(new Error('unexpected end of the zip file'));
        this.window = { start: position, data };
        data.copy(buffer, offset, 0, length);
        cb(null);
      }, (e: Error) => cb(e));
  }
}

interface Item { entry: Entry; path: string; dir: boolean }

/** Why an entry's name is refused, or null. */
function badName(name: string): string | null {
  const low = yauzl.validateFileName(name);
  if (low) return low.replace(/:.*$/, '');
  const segments = name.replace(/\/$/, '').split('/');
  for (const s of segments) {
    if (s === '' || s === '.') return 'empty or "." path segment';
    try {
      validateName(s);
    } catch (err) {
      return (err as Error).message;
    }
  }
  return null;
}

/** The entries of the central directory, checked; a PermanentJobError lists every refused one. */
async function scan(zip: ZipFile, maxEntries: number): Promise<{ items: Item[]; bytes: number }> {
  if (zip.entryCount > maxEntries) throw new PermanentJobError(`unzip: the archive has ${zip.entryCount} entries, more than the ${maxEntries} allowed`);
  const items: Item[] = [];
  const bad: string[] = [];
  let bytes = 0;
  for await (const entry of zip.eachEntry()) {
    const name = yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, entry.fileNameRaw, entry.extraFields, false);
    const dir = name.endsWith('/');
    const why = badName(name) ?? (entry.isEncrypted() ? 'encrypted' : !dir && !entry.canDecodeFileData() ? 'unsupported compression method' : null);
    if (why) bad.push(`"${name.slice(0, 200)}" (${why})`);
    if (!dir) bytes += entry.uncompressedSize;
    items.push({ entry, path: name.replace(/\/$/, '').normalize('NFC'), dir });
  }
  if (bad.length) throw new PermanentJobError(`unzip: refused entr${bad.length > 1 ? 'ies' : 'y'} ${bad.slice(0, 10).join(', ')}${bad.length > 10 ? `, and ${bad.length - 10} more` : ''}`);
  return { items, bytes };
}

/** A failure while extracting `path`: abort and I/O errors stay retryable; a corrupt archive or a refused file is permanent. */
function extractionError(ctx: JobContext, err: unknown, path: string): unknown {
  if (ctx.signal.aborted) return ctx.signal.reason instanceof Error ? ctx.signal.reason : err;
  if (err instanceof HearthError) return permanentIfClientError(err, `unzip: "${path}"`);
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && !code.startsWith('Z_')) return err;
  return Object.assign(new PermanentJobError(`unzip: the archive is corrupt at "${path}": ${(err as Error).message}`), { cause: err });
}

export function unzipWorker(deps: UnzipDeps): WorkerDef {
  const maxEntries = deps.maxEntries ?? 10_000;
  const maxBytes = deps.maxBytes ?? 10 * 1024 ** 3;
  return {
    name: 'unzip',
    concurrency: CPUS,
    maxExecCount: 2,
    timeoutSeconds: 600,
    async run(ctx) {
      const args = argsObject('unzip', ctx.job.message);
      const { fs } = deps.vfs;
      const instance = ctx.instance;
      // the job acts with the rights of the token that queued it: it reads and writes only where that token may
      const rights = await jobFileRights(deps.vfs, ctx, deps.rightsNow);
      const zipDoc = await liveFile(fs, instance, argString('unzip', args, 'zip'), 'unzip: the archive', rights);
      const dest = await fs.target(instance, argString('unzip', args, 'destination')).catch((err: unknown) => {
        throw permanentIfClientError(err, 'unzip: the destination');
      });
      const size = Number(zipDoc.size);
      const reader = new BlobReader(fs, instance, zipDoc, size);
      const opts = { lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: true };
      const zip = await yauzl.fromRandomAccessReaderPromise(reader, size, opts).catch((err: unknown) => {
        if (err instanceof HearthError) throw permanentIfClientError(err, 'unzip: the archive');
        throw new PermanentJobError(`unzip: "${zipDoc.name}" is not a valid zip archive: ${(err as Error).message}`);
      });
      try {
        const { items, bytes } = await scan(zip, maxEntries).catch((err: unknown) => {
          if (err instanceof PermanentJobError || err instanceof HearthError) throw err;
          throw new PermanentJobError(`unzip: "${zipDoc.name}" is not a valid zip archive: ${(err as Error).message}`);
        });
        for (const { path, dir } of items) {
          const name = path.slice(path.lastIndexOf('/') + 1);
          await assertJobCreate(rights, dest, { type: dir ? 'directory' : 'file', name }, `unzip: "${path.slice(0, 200)}"`);
        }
        if (bytes > maxBytes) throw new PermanentJobError(`unzip: the archive holds ${bytes} bytes uncompressed, more than the ${maxBytes} allowed`);
        if (instance.diskQuota !== null) {
          const room = Math.max(0, instance.diskQuota - (await fs.diskUsage(instance)));
          if (bytes > room) throw new PermanentJobError(`unzip: the archive holds ${bytes} bytes uncompressed, more than the ${room} bytes left of the quota`);
        }
        await extract(fs, ctx, zip, items, dest);
        ctx.log.info({ entries: items.length, bytes }, 'unzip: archive extracted');
      } finally {
        zip.close();
      }
    },
  };
}

/** The entry's MD5 (base64, as FileDoc.md5sum), read again from the archive. */
async function entryMd5(zip: ZipFile, entry: Entry): Promise<string> {
  const hash = createHash('md5');
  for await (const chunk of await zip.openReadStreamPromise(entry)) hash.update(chunk as Buffer);
  return hash.digest('base64');
}

/** Whether `doc` is this entry extracted by an earlier try of this job: uploaded since the job was queued, same size and MD5. */
async function extractedBefore(ctx: JobContext, zip: ZipFile, entry: Entry, doc: FileDoc | null): Promise<boolean> {
  if (!doc || isDir(doc) || Number(doc.size) !== entry.uncompressedSize) return false;
  const uploadedAt = Date.parse(String((doc.cozyMetadata as { uploadedAt?: unknown } | undefined)?.uploadedAt ?? ''));
  if (!(uploadedAt >= Date.parse(ctx.job.queued_at))) return false;
  return doc.md5sum === (await entryMd5(zip, entry));
}

async function extract(fs: FileSystem, ctx: JobContext, zip: ZipFile, items: Item[], dest: FileDoc): Promise<void> {
  const instance = ctx.instance;
  const dirs = new Map<string, string>([['', dest._id]]);
  // the time the job was queued, not the time of this try: a retry finds (and reuses) the names an earlier try chose
  const queuedAt = Date.parse(ctx.job.queued_at);
  const conflictName = (name: string) => `${name} - conflict - ${Math.floor((Number.isNaN(queuedAt) ? fs.clock().getTime() : queuedAt) / 1000)}`;
  const ensureDir = async (path: string): Promise<string> => {
    const known = dirs.get(path);
    if (known !== undefined) return known;
    const i = path.lastIndexOf('/');
    const parentId = await ensureDir(i < 0 ? '' : path.slice(0, i));
    const name = path.slice(i + 1);
    const there = await fs.child(instance, parentId, name);
    let id: string;
    if (there && isDir(there)) id = there._id;
    else id = (await fs.createDir(instance, { dirId: parentId, name: there ? conflictName(name) : name })
      .catch((err: unknown) => { throw permanentIfClientError(err, `unzip: the directory "${path}"`); }))._id;
    dirs.set(path, id);
    return id;
  };
  for (const { entry, path, dir } of items) {
    checkAborted(ctx.signal);
    if (dir) {
      await ensureDir(path);
      continue;
    }
    const i = path.lastIndexOf('/');
    const dirId = await ensureDir(i < 0 ? '' : path.slice(0, i));
    const base = path.slice(i + 1);
    const there = await fs.child(instance, dirId, base);
    if (await extractedBefore(ctx, zip, entry, there)) continue;
    const name = there ? conflictName(base) : base;
    if (there && (await extractedBefore(ctx, zip, entry, await fs.child(instance, dirId, name)))) continue;
    let body: Readable | undefined;
    const stop = () => body?.destroy(new Error('the job was aborted'));
    ctx.signal.addEventListener('abort', stop, { once: true });
    try {
      body = await zip.openReadStreamPromise(entry);
      await fs.upload(instance, { dirId, name, body, size: entry.uncompressedSize, updatedAt: entry.getLastModDate().toISOString() });
    } catch (err) {
      body?.destroy();
      if (err instanceof Conflict) throw new PermanentJobError(`unzip: "${path}": a file named "${name}" already exists there`);
      throw extractionError(ctx, err, path);
    } finally {
      ctx.signal.removeEventListener('abort', stop);
    }
  }
}
