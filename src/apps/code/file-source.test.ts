/** Serving an installed app's files from the code store: encodings by Accept-Encoding, strong ETags, no escape. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_FILES, fillWith, sha } from '../../../test/helpers/app-code-store-suite.js';
import { StoredAppFiles } from './file-source.js';
import { LocalAppCodeStore } from './local-store.js';

let dir: string;
let store: LocalAppCodeStore;
let files: StoredAppFiles;
const v1 = sha('v1');
const v2 = sha('v2');
const app = (checksum: string) => ({ slug: 'drive', version: '1.0.0', source: 'registry://drive/stable', checksum });
const HTML = Buffer.from(APP_FILES['index.html'] ?? '');

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hearth-appfiles-'));
  store = new LocalAppCodeStore({ dir: join(dir, 'code'), dbFile: join(dir, 'code.sqlite') });
  files = new StoredAppFiles(store);
  await store.acquire({ instanceId: 'i1', kind: 'webapp', slug: 'drive', sha256: v1 }, fillWith(APP_FILES));
  await store.acquire({ instanceId: 'i1', kind: 'webapp', slug: 'drive', sha256: v2 }, fillWith({ ...APP_FILES, 'js/new.js': 'new' }));
});
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function open(path: string, accept: string | undefined, checksum = v1) {
  const f = await files.open(app(checksum), 'webapp', path, accept);
  if (!f) return null;
  const body = await buffer(f.body);
  expect(body.length).toBe(f.size);
  return { ...f, body };
}

describe('StoredAppFiles', () => {
  it('sends the brotli copy as is when br is accepted', async () => {
    const f = await open('index.html', 'gzip, deflate, br');
    expect(f?.contentEncoding).toBe('br');
    expect(brotliDecompressSync(f!.body)).toEqual(HTML);
    expect(f!.size).toBeLessThan(HTML.length);
  });

  it('sends the gzip copy when only gzip is accepted (or br is refused)', async () => {
    for (const accept of ['gzip', 'br;q=0, gzip', 'gzip;q=1, br;q=0.5']) {
      const f = await open('index.html', accept);
      expect(f?.contentEncoding, accept).toBe('gzip');
      expect(gunzipSync(f!.body)).toEqual(HTML);
    }
  });

  it('sends the raw bytes without Accept-Encoding, with identity, or for a file not stored compressed', async () => {
    for (const accept of [undefined, '', 'identity', 'deflate']) {
      const f = await open('index.html', accept);
      expect(f?.contentEncoding, String(accept)).toBeNull();
      expect(f!.body).toEqual(HTML);
    }
    const png = await open('img/logo.png', 'br, gzip');
    expect(png?.contentEncoding).toBeNull();
    expect(png!.body).toEqual(APP_FILES['img/logo.png']);
  });

  it('gives a strong ETag from the content hash, one per encoding, the same across versions for the same bytes', async () => {
    const raw = await open('index.html', undefined);
    const br = await open('index.html', 'br');
    const gz = await open('index.html', 'gzip');
    expect(raw?.etag).toMatch(/^"[0-9a-f]{32}"$/);
    expect(new Set([raw?.etag, br?.etag, gz?.etag]).size).toBe(3);
    expect(br?.etag).not.toMatch(/^W\//);
    expect((await open('index.html', undefined, v2))?.etag).toBe(raw?.etag);
    expect((await open('js/app.0123456789ab.js', undefined))?.etag).not.toBe(raw?.etag);
  });

  it('answers null for a missing file, a folder, another version, a path escaping the app or not normalised', async () => {
    expect(await open('js/new.js', undefined)).toBeNull();
    expect(await open('js/new.js', undefined, v2)).not.toBeNull();
    for (const path of ['missing.html', 'js', '', '../index.html', '/index.html', 'js/../index.html', './index.html', 'index.html\0', '__proto__']) {
      expect(await open(path, 'br'), path).toBeNull();
    }
    expect(await open('index.html', 'br', sha('not installed'))).toBeNull();
    expect(await open('index.html', 'br', '../../x')).toBeNull();
  });
});
