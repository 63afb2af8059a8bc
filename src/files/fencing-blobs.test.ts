/**
 * What a holder of the file-system lock paused past its lease can do to the blobs (the object store has no fence of
 * its own, and needs none): nothing another holder's files name. A blob is written under a fresh random key (never one
 * in use, never reused: blobs/checks.ts newKey), so the stale holder's writes overwrite nothing; and a blob is removed
 * only after the fenced commit that stopped naming it (fs.ts upload, overwrite, settleReplaced; tree.ts destroy;
 * versions.ts; thumbnails/generate.ts), or when it is the remover's own new blob that no commit names. The stale
 * holder's commit is refused (StaleLock), so it removes only the blob it had just written. Here on PostgreSQL + Redis
 * with the project's blobs: a local folder both processes share, Swift and S3 (object-storage-swift, -s3).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { instance, openFencedVfs, type FencedVfs } from '../../test/helpers/fenced-vfs.js';
import { fencingServers } from '../../test/helpers/fencing-servers.js';
import type { HearthConfig } from '../config/types.js';
import type { DocStore } from '../data/store.js';
import { blobStoreArea } from './blobs/engine.js';
import { fsck } from './fsck.js';
import { ROOT_DIR_ID, type FileDoc } from './types.js';

const servers = fencingServers();

const LEASE_MS = 500;
const where = process.env.TEST_BLOBS ? (JSON.parse(process.env.TEST_BLOBS) as HearthConfig['blobs']) : null;
const body = (text: string) => Readable.from([Buffer.from(text)]);

/**
 * The store as a process sees it that stands still (its event loop blocked past the lock's lease, as a paused process)
 * at its next write once `pause.armed`, then waits for `pause.resume` before it makes that write.
 */
function pausable(pause: { armed: boolean; paused: () => void; gate: Promise<void> }) {
  return (store: DocStore): DocStore => new Proxy(store, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== 'function') return value;
      const fn = (value as (...args: unknown[]) => unknown).bind(target);
      if (prop !== 'put' && prop !== 'putAll') return fn;
      return async (...args: unknown[]) => {
        if (pause.armed) {
          pause.armed = false;
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, LEASE_MS * 2);
          pause.paused();
          await pause.gate;
        }
        return fn(...args);
      };
    },
  });
}

describe(`a stale holder of the file-system lock and the blobs (${where ? where.engine : 'local'})`, () => {
  it('cannot remove or replace the blob another holder\'s file names, and leaves no blob behind', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hearth-fencing-blobs-'));
    const tag = randomUUID().slice(0, 8);
    const pgUrl = await servers.pg.database_url(`fence_blobs_${tag}`);
    const blobs = () => (where ? blobStoreArea({ ...where, swift: { ...where.swift, containerPrefix: `t_fb_${tag}_` }, s3: { ...where.s3, bucket: `t-fb-${tag}` } }, dir, 'files') : undefined);
    const common = { dir, pgUrl, redisUrl: servers.redis.url, prefix: `fb${tag}:`, leaseMs: LEASE_MS };
    const opened: FencedVfs[] = [];
    try {
      const other = await openFencedVfs({ ...common, name: 'other', ...(where ? { blobs: blobs()! } : {}) });
      opened.push(other);
      let paused!: () => void;
      let resume!: () => void;
      const pause = { armed: false, paused: () => paused(), gate: new Promise<void>((r) => (resume = r)) };
      const stale = await openFencedVfs({ ...common, name: 'stale', wrap: pausable(pause), ...(where ? { blobs: blobs()! } : {}) });
      opened.push(stale);
      const read = async (id: string) => (await buffer(await other.vfs.fs.open(instance, (await other.vfs.fs.stat(instance, id)) as FileDoc))).toString();
      const kept = await other.vfs.fs.upload(instance, { name: 'kept.txt', dirId: ROOT_DIR_ID, body: body('first') });
      const gone = await other.vfs.fs.upload(instance, { name: 'gone.txt', dirId: ROOT_DIR_ID, body: body('to be replaced') });

      for (const [what, act] of [
        // a new content: its blob is written, then its commit is refused
        ['overwrite', () => stale.vfs.fs.overwrite(instance, kept._id, { body: body('stale content') })],
        // a removal for good: its commit is refused, so the blob it would have removed after it stays
        ['destroy', () => stale.vfs.tree.destroy(instance, gone._id, undefined, { anywhere: true })],
      ] as const) {
        const isPaused = new Promise<void>((r) => (paused = r));
        pause.armed = true;
        const outcome = (act as () => Promise<unknown>)().then(() => 'done', (err: { status?: number }) => `refused ${err.status}`);
        await isPaused;
        // meanwhile the other process takes the lock and replaces the contents (and removes the blobs no longer named)
        const next = what === 'overwrite' ? kept : gone;
        await other.vfs.fs.overwrite(instance, next._id, { body: body(`fresh ${what}`) });
        resume();
        expect(await outcome).toBe('refused 503');
        pause.gate = new Promise<void>((r) => (resume = r));
        expect(await read(next._id)).toBe(`fresh ${what}`);
      }
      // every blob a document names is there, and none is left that no document names
      expect(await fsck(other.vfs.fs, instance)).toEqual([]);
    } finally {
      for (const o of opened) await o.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
