/**
 * The blob store's conformance suite on OpenStack Swift (native API, with 1 MiB segments so that the Static Large
 * Object path runs) and on S3 (Swift's s3api middleware, 5 MiB parts: multipart uploads), on one real Swift server
 * from Debian's packages; then what only a real server shows: its loss and return, and a full store.
 */
import { CreateMultipartUploadCommand, ListMultipartUploadsCommand, S3Client, UploadPartCommand } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { HearthConfig } from '../../config/types.js';
import { createHearth } from '../../server/compose.js';
import { rawRequest, testConfig } from '../../../test/helpers/hearth.js';
import { feedUpload, startServer, stopServer } from '../../../test/helpers/crash.js';
import { fsck } from '../fsck.js';
import { describeBlobStore, chunked, keysOf } from '../../../test/helpers/blob-store-suite.js';
import { startSwift, type SwiftServer } from '../../../test/helpers/servers/swift.js';
import { toHearthError } from '../../server/http-errors.js';
import { S3BlobStore } from './s3.js';
import { SwiftBlobStore } from './swift.js';

let server: Promise<SwiftServer> | null = null;
const swift = () => (server ??= startSwift());
afterAll(async () => {
  await (await server)?.stop();
}, 120_000);

/** A token and the account's URL, for what the tests look at behind the engine's back. */
async function account(s: SwiftServer): Promise<{ url: string; token: string }> {
  const res = await fetch(s.authUrl, { headers: { 'X-Auth-User': s.user, 'X-Auth-Key': s.key } });
  return { url: res.headers.get('x-storage-url')!, token: res.headers.get('x-auth-token')! };
}

const MiB = 1024 * 1024;
const SEGMENT = MiB;
const swiftStore = (s: SwiftServer, prefix: string, area?: string) =>
  new SwiftBlobStore({ authUrl: s.authUrl, user: s.user, key: s.key, containerPrefix: prefix, area, segmentBytes: SEGMENT, staleMs: 0 });

describeBlobStore('OpenStack Swift', async () => {
  const s = await swift();
  const { url, token } = await account(s);
  const names = async (ns: string, prefix: string) => {
    const res = await fetch(`${url}/swift_${ns}?format=json&prefix=${prefix}`, { headers: { 'X-Auth-Token': token } });
    return res.status === 404 || res.status === 204 ? [] : ((await res.json()) as { name: string }[]).map((o) => o.name);
  };
  /** The uploads whose segments are there but not their manifest. */
  const segments = async (ns: string) => {
    const blobs = new Set(await names(ns, 'files/'));
    const keys = new Set((await names(ns, '.seg/files/')).map((n) => n.split('/')[2]));
    return [...keys].filter((k) => !blobs.has(`files/${k}`));
  };
  return {
    make: (area) => swiftStore(s, 'swift_', area),
    leftovers: async (ns) => (await segments(ns)).length,
    plantLeftover: async (ns) => {
      const put = await fetch(`${url}/swift_${ns}/.seg/files/${'b'.repeat(32)}/00000000`, { method: 'PUT', headers: { 'X-Auth-Token': token }, body: 'half a file' });
      expect(put.status).toBe(201);
    },
  };
});

const s3Client = (s: SwiftServer) => new S3Client({
  region: s.s3.region, endpoint: s.s3.endpoint, forcePathStyle: true,
  credentials: { accessKeyId: s.s3.accessKeyId, secretAccessKey: s.s3.secretAccessKey },
  requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED',
});
const s3Store = (s: SwiftServer, bucket: string, area?: string) => new S3BlobStore({
  endpoint: s.s3.endpoint, region: s.s3.region, bucket, accessKeyId: s.s3.accessKeyId, secretAccessKey: s.s3.secretAccessKey,
  forcePathStyle: true, area, partBytes: 5 * 1024 * 1024, staleMs: 0,
});

describeBlobStore('S3 (Swift s3api)', async () => {
  const s = await swift();
  const client = s3Client(s);
  const Bucket = 'hearth-suite';
  return {
    make: (area) => s3Store(s, Bucket, area),
    leftovers: async (ns) => (await client.send(new ListMultipartUploadsCommand({ Bucket, Prefix: `${ns}/files/` }))).Uploads?.length ?? 0,
    plantLeftover: async (ns) => {
      const Key = `${ns}/files/${'b'.repeat(32)}`;
      const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket, Key }));
      await client.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body: randomBytes(5 * 1024 * 1024) }));
    },
    done: async () => client.destroy(),
  };
});

describe('object stores lost and back', () => {
  it('answer 503 (Retry-After) while the server is down, and work again after its restart, on a token renewed', async () => {
    const s = await swift();
    const NS = randomBytes(16).toString('hex');
    const stores = [swiftStore(s, 'down_'), s3Store(s, 'hearth-down')];
    const before = await Promise.all(stores.map((b) => b.write(NS, Readable.from([Buffer.from('kept')]), { maxBytes: 100 })));
    await s.halt();
    for (const [i, b] of stores.entries()) {
      const failures = await Promise.all([
        b.write(NS, chunked(randomBytes(100_000)), { maxBytes: 1e6 }).then(() => null, (e: unknown) => e),
        b.read(NS, before[i]!.key).then(() => null, (e: unknown) => e),
        b.size(NS, before[i]!.key).then(() => null, (e: unknown) => e),
        keysOf(b, NS).then(() => null, (e: unknown) => e),
      ]);
      for (const err of failures) {
        expect(toHearthError(err)).toMatchObject({ status: 503, headers: { 'Retry-After': '5' } });
      }
    }
    // memcached restarts with the servers: every token Swift gave is forgotten, the engine logs in again on its 401
    await s.start();
    for (const [i, b] of stores.entries()) {
      expect(Buffer.concat(await (await b.read(NS, before[i]!.key)).toArray()).toString()).toBe('kept');
      const again = await b.write(NS, Readable.from([Buffer.from('again')]), { maxBytes: 100 });
      expect(await keysOf(b, NS)).toEqual([before[i]!.key, again.key].sort());
      await b.close();
    }
  }, 240_000);
});

/** The `blobs` setting of a Hearth on `store` of the test server. */
const setting = (s: SwiftServer, store: 'swift' | 's3'): HearthConfig['blobs'] => ({
  engine: store,
  swift: { authUrl: s.authUrl, user: s.user, key: s.key, containerPrefix: 'crash_' },
  s3: { endpoint: s.s3.endpoint, region: s.s3.region, bucket: 'hearth-crash', accessKeyId: s.s3.accessKeyId, secretAccessKey: s.s3.secretAccessKey, forcePathStyle: true },
});

describe.each(['swift', 's3'] as const)('kill -9 of a Hearth on %s in the middle of a large upload', (store) => {
  it('leaves no visible file nor blob, and fsck finds an orphan blob (one whose document never got committed)', async () => {
    const s = await swift();
    const env = { TEST_BLOBS: JSON.stringify(setting(s, store)) };
    const dataDir = mkdtempSync(join(tmpdir(), 'hearth-test-crash'));
    try {
      const first = await startServer(dataDir, 0, env);
      const { req, sent, feeding } = feedUpload(first, 'big.bin', 256 * MiB);
      // the server's back-pressure: what the client got through, the server has sent on to the store, but a few MiB
      await vi.waitFor(() => expect(sent()).toBeGreaterThanOrEqual(48 * MiB), { timeout: 120_000, interval: 50 });
      first.child.kill('SIGKILL');
      await new Promise((r) => first.child.once('exit', r));
      req.destroy();
      await feeding.catch(() => undefined);

      const again = await startServer(dataDir, first.port, env);
      try {
        const meta = await rawRequest(again.port, 'GET', '/files/metadata?Path=/big.bin', { host: again.domain, token: again.token });
        expect(meta.status).toBe(404);
        const root = await rawRequest(again.port, 'GET', '/files/io.cozy.files.root-dir', { host: again.domain, token: again.token });
        expect(JSON.stringify(root.body)).not.toContain('big.bin');
      } finally {
        await stopServer(again);
      }
      // the same Hearth in this process (its engines as the child's: test/helpers/engines.ts)
      process.env.TEST_BLOBS = env.TEST_BLOBS;
      const config = testConfig(dataDir);
      delete process.env.TEST_BLOBS;
      const hearth = await createHearth(config, pino({ level: 'silent' }));
      try {
        const instance = (await hearth.registry.get(first.domain))!;
        const blobs = hearth.vfs.fs.blobs;
        expect(await keysOf(blobs, instance.id)).toEqual([]);
        expect(await fsck(hearth.vfs.fs, instance)).toEqual([]);
        const orphan = await blobs.write(instance.id, Readable.from([Buffer.from('bytes whose document was never committed')]), { maxBytes: 100 });
        expect(await fsck(hearth.vfs.fs, instance)).toEqual([expect.objectContaining({ type: 'index_missing', blob: expect.objectContaining({ key: orphan.key }) })]);
        if (store === 's3') {
          // the parts sent before the kill: an incomplete multipart upload, invisible, kept an hour (another process's
          // upload in progress looks the same), then aborted by cleanTemporary
          const stale = s3Store(s, config.blobs.s3.bucket!);
          expect(await stale.cleanTemporary(instance.id)).toBe(1);
          await stale.close();
        }
      } finally {
        await hearth.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 300_000);
});
