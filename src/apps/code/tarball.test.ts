/** The package reader on real tarballs built with tar-stream: what it accepts, and every hostile refusal. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appEntries, makeTarball, makeTrailingBomb, type TarEntry } from '../../../test/helpers/app-tarball.js';
import { BadPackage } from './errors.js';
import { cleanEntryName, readTarball, readTarballManifest, unpackTarball, type TarOptions } from './tarball.js';

let dir: string;
let n = 0;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hearth-tar-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const limits = { maxEntries: 5000, maxUnpackedBytes: 200 * 1024 * 1024 };
const drive = { slug: 'drive', name: 'Drive', version: '1.2.3', type: 'webapp' };

async function tarball(entries: TarEntry[], gzip = true): Promise<string> {
  const file = join(dir, `p${n++}.tar${gzip ? '.gz' : ''}`);
  await makeTarball(file, entries, { gzip });
  return file;
}

async function unpacked(file: string, opts: TarOptions): Promise<Record<string, string>> {
  const info = await readTarball(file, opts);
  const out: Record<string, string> = {};
  await unpackTarball(file, info, opts.limits, async (path, body) => void (out[path] = await text(body)));
  return out;
}

async function refusal(file: string, opts: Partial<TarOptions> = {}): Promise<string> {
  const err = await readTarball(file, { limits, kind: 'webapp', ...opts }).then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(BadPackage);
  expect((err as BadPackage).status).toBe(400);
  return (err as BadPackage).reason;
}

describe('readTarball / unpackTarball', () => {
  it('reads a .tar.gz with its files at the root', async () => {
    const file = await tarball(appEntries(drive, { 'index.html': '<html></html>', 'js/app.js': 'go()' }));
    const info = await readTarball(file, { limits, kind: 'webapp', expectedSlug: 'drive' });
    expect(info).toMatchObject({ kind: 'webapp', prefix: '', files: 3, manifest: { slug: 'drive', version: '1.2.3' } });
    expect(await unpacked(file, { limits, kind: 'webapp' })).toEqual({ 'manifest.webapp': JSON.stringify(drive), 'index.html': '<html></html>', 'js/app.js': 'go()' });
  });

  it('reads a plain .tar, strips a single top folder and ./ names', async () => {
    const file = await tarball([{ name: './package/', type: 'directory' }, ...appEntries(drive, { 'a/b.txt': 'b' }, './package/')], false);
    const info = await readTarball(file, { limits });
    expect(info.prefix).toBe('package/');
    expect(info.kind).toBe('webapp');
    expect(await unpacked(file, { limits })).toEqual({ 'manifest.webapp': JSON.stringify(drive), 'a/b.txt': 'b' });
  });

  it("strips the registry's tar_prefix and leaves out what is outside it", async () => {
    const file = await tarball([...appEntries(drive, { 'x.js': 'x' }, 'build/'), { name: 'README.md', body: 'outside' }]);
    expect(await unpacked(file, { limits, prefix: 'build' })).toEqual({ 'manifest.webapp': JSON.stringify(drive), 'x.js': 'x' });
  });

  it('tells a konnector by its manifest when no kind is asked (the publish reader)', async () => {
    const file = await tarball(appEntries({ slug: 'bank', type: 'konnector', version: '2.0.0' }, { 'index.js': '' }));
    expect(await readTarballManifest(file, { limits })).toEqual({ kind: 'konnector', manifest: { slug: 'bank', type: 'konnector', version: '2.0.0' } });
  });

  it('gives the asked slug to a manifest that has none', async () => {
    const file = await tarball(appEntries({ name: 'No slug' }));
    expect((await readTarball(file, { limits, kind: 'webapp', expectedSlug: 'noslug' })).manifest.slug).toBe('noslug');
  });
});

describe('hostile tarballs are refused (400)', () => {
  it('a name with a .. segment', async () => {
    expect(await refusal(await tarball([...appEntries(drive), { name: '../x', body: 'evil' }]))).toMatch(/"\.\.\/x" has a "\.\." segment/);
    expect(await refusal(await tarball([...appEntries(drive), { name: 'a/../../x', body: 'evil' }]))).toMatch(/\.\./);
  });

  it('a name too long, or with a NUL byte (a pax header can carry one)', async () => {
    expect(await refusal(await tarball([...appEntries(drive), { name: `${'a'.repeat(300)}.js`, body: 'x' }]))).toMatch(/too long a name/);
    expect(await refusal(await tarball([...appEntries(drive), { name: `${'abc/'.repeat(300)}x.js`, body: 'x' }]))).toMatch(/too long a name/);
    expect(() => cleanEntryName('a\0/b.js')).toThrow(/NUL byte/);
    expect(() => cleanEntryName('C:\\evil.js')).toThrow(/absolute/);
    expect(cleanEntryName('./a//b/./c.js')).toBe('a/b/c.js');
  });

  it('an absolute name', async () => {
    expect(await refusal(await tarball([...appEntries(drive), { name: '/etc/x', body: 'evil' }]))).toMatch(/"\/etc\/x" has an absolute name/);
  });

  it('a symbolic link, even to a file inside', async () => {
    expect(await refusal(await tarball([...appEntries(drive), { name: 'passwd', type: 'symlink', linkname: '/etc/passwd' }]))).toMatch(/"passwd" is a symbolic link/);
    expect(await refusal(await tarball([...appEntries(drive), { name: 'self', type: 'symlink', linkname: 'manifest.webapp' }]))).toMatch(/symbolic link/);
  });

  it('a hard link', async () => {
    expect(await refusal(await tarball([...appEntries(drive), { name: 'h', type: 'link', linkname: 'manifest.webapp' }]))).toMatch(/"h" is a hard link/);
  });

  it('devices and fifos', async () => {
    expect(await refusal(await tarball([...appEntries(drive), { name: 'null', type: 'character-device' }]))).toMatch(/character device/);
    expect(await refusal(await tarball([...appEntries(drive), { name: 'sda', type: 'block-device' }]))).toMatch(/block device/);
    expect(await refusal(await tarball([...appEntries(drive), { name: 'pipe', type: 'fifo' }]))).toMatch(/fifo/);
  });

  it('5,001 entries', async () => {
    const many = Array.from({ length: 5000 }, (_, i) => ({ name: `f/${i}.txt`, body: '' }));
    expect(await refusal(await tarball([...appEntries(drive), ...many]))).toMatch(/more than 5000 entries/);
    // 5,000 is allowed
    const info = await readTarball(await tarball([...appEntries(drive), ...many.slice(1)]), { limits, kind: 'webapp' });
    expect(info.files).toBe(5000);
  });

  it('a gzip bomb: a file over the unpacked limit', async () => {
    const small = { ...limits, maxUnpackedBytes: 8 * 1024 * 1024 };
    expect(await refusal(await tarball([...appEntries(drive), { name: 'zeros.bin', zeros: 64 * 1024 * 1024 }]), { limits: small }))
      .toMatch(/more than 8388608 bytes/);
  });

  it('a gzip bomb: zeros after the archive, counted as they come out of gzip', async () => {
    const file = join(dir, 'trailing.tar.gz');
    await makeTrailingBomb(file, appEntries(drive), 64 * 1024 * 1024);
    expect(await refusal(file, { limits: { ...limits, maxUnpackedBytes: 4 * 1024 * 1024 } })).toMatch(/more than 4194304 bytes/);
  });

  it('a manifest over 2 MiB', async () => {
    const big = { ...drive, padding: 'x'.repeat(3 * 1024 * 1024) };
    expect(await refusal(await tarball(appEntries(big)))).toMatch(/manifest.webapp is larger than 2097152 bytes/);
  });

  it('a manifest that is not JSON, or not an object', async () => {
    expect(await refusal(await tarball([{ name: 'manifest.webapp', body: '{nope' }]))).toMatch(/not valid JSON/);
    expect(await refusal(await tarball([{ name: 'manifest.webapp', body: '[1]' }]))).toMatch(/JSON object/);
  });

  it('no manifest of the asked kind', async () => {
    const file = await tarball(appEntries({ slug: 'bank', type: 'konnector' }));
    expect(await refusal(file)).toMatch(/no manifest.webapp/);
  });

  it('a manifest of the wrong type', async () => {
    const file = await tarball([{ name: 'manifest.webapp', body: JSON.stringify({ slug: 'drive', type: 'konnector' }) }]);
    expect(await refusal(file)).toMatch(/type "konnector": this package is not a webapp/);
  });

  it('a manifest for another slug', async () => {
    expect(await refusal(await tarball(appEntries(drive)), { expectedSlug: 'photos' })).toMatch(/for the slug "drive", not "photos"/);
  });

  it('an entry twice, or a file inside a file', async () => {
    expect(await refusal(await tarball([...appEntries(drive), { name: 'a', body: '1' }, { name: 'a', body: '2' }]))).toMatch(/twice/);
    expect(await refusal(await tarball([...appEntries(drive), { name: 'a', body: '1' }, { name: 'a/b', body: '2' }]))).toMatch(/which is a file/);
  });

  it('a truncated tarball', async () => {
    const whole = readFileSync(await tarball(appEntries(drive, { 'big.js': 'x'.repeat(100_000) + Math.random() })));
    const file = join(dir, 'truncated.tar.gz');
    writeFileSync(file, whole.subarray(0, whole.length - 200));
    expect(await refusal(file)).toMatch(/not a valid (gzip|tar)/);
  });

  it('a file that is not a tarball', async () => {
    const file = join(dir, 'junk.tar.gz');
    writeFileSync(file, Buffer.concat([Buffer.from([0x1f, 0x8b]), Buffer.from('not gzip at all')]));
    expect(await refusal(file)).toMatch(/not a valid gzip/);
    writeFileSync(file, 'x'.repeat(2048));
    expect(await refusal(file)).toMatch(/not a valid tar|no manifest/);
  });
});
