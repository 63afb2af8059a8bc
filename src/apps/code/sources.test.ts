/** Package sources against a real local HTTP server and real folders: what is stored, what is refused, and nothing left after a refusal. */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { appEntries, makeTarball } from '../../../test/helpers/app-tarball.js';
import { NotFound } from '../../common/errors.js';
import { BadPackage, InvalidSource } from './errors.js';
import { LocalAppCodeStore } from './local-store.js';
import { fetchPackage, type FetchOptions, type RegistryVersion } from './sources.js';

let dir: string;
let store: LocalAppCodeStore;
let server: Server;
let base: string;
/** Files the server serves, by URL path; every request's path is recorded. */
const served = new Map<string, Buffer>();
const requests: string[] = [];
const limits = { maxEntries: 5000, maxUnpackedBytes: 50 * 1024 * 1024 };
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const drive = { slug: 'drive', name: 'Drive', version: '1.2.3', type: 'webapp' };
let n = 0;

async function tarballBytes(entries: Parameters<typeof makeTarball>[1]): Promise<Buffer> {
  const file = join(dir, `t${n++}.tar.gz`);
  await makeTarball(file, entries);
  return readFileSync(file);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hearth-sources-'));
  store = new LocalAppCodeStore({ dir: join(dir, 'code'), dbFile: join(dir, 'code.sqlite') });
  server = createServer((req, res) => {
    const path = req.url ?? '/';
    requests.push(path);
    if (path.startsWith('/redirect/')) {
      const left = Number(path.split('/')[2]);
      res.writeHead(302, { location: left > 0 ? `/redirect/${left - 1}` : '/drive.tar.gz' }).end();
      return;
    }
    if (path === '/loop') return void res.writeHead(301, { location: '/loop' }).end();
    if (path === '/broken') return void res.writeHead(500).end('oops');
    if (path === '/hang') return; // never answers
    if (path === '/endless') {
      // no Content-Length, and more bytes than any package may have
      res.writeHead(200);
      const chunk = Buffer.alloc(1024 * 1024, 7);
      const more = () => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once('drain', more);
      };
      return more();
    }
    const body = served.get(path);
    if (!body) return void res.writeHead(404).end('not found');
    res.writeHead(200, { 'content-type': 'application/gzip', 'content-length': body.length }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  served.set('/drive.tar.gz', await tarballBytes(appEntries(drive, { 'index.html': '<html>drive</html>' }, 'package/')));
  served.set('/evil.tar.gz', await tarballBytes([...appEntries(drive), { name: '../../x', body: 'evil' }]));
  served.set('/bank.tgz', await tarballBytes(appEntries({ slug: 'bank', type: 'konnector', version: '3.0.0' }, { 'index.js': 'run()' }, 'build/')));
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => void (requests.length = 0));

const opts = (over: Partial<FetchOptions> = {}): FetchOptions => ({ instanceId: 'i1', dev: false, limits, ...over });

/** After a refusal: no download left, and nothing stored or referenced beyond what was there. */
async function nothingLeft(before: { refs: number; code: string[] }): Promise<void> {
  expect(readdirSync(store.scratchDir)).toEqual([]);
  expect(await store.refs({})).toHaveLength(before.refs);
  expect(await store.gc()).toEqual([]);
  expect(codeDirs()).toEqual(before.code);
}
const codeDirs = () => readdirSync(join(dir, 'code'), { recursive: true }).map(String).filter((p) => /^[0-9a-f]{2}\/[0-9a-f]{64}$/.test(p)).sort();
const snapshot = async () => ({ refs: (await store.refs({})).length, code: codeDirs() });

async function refused(p: Promise<unknown>): Promise<unknown> {
  return p.then(() => {
    throw new Error('expected a refusal');
  }, (e: unknown) => e);
}

describe('http(s) sources', () => {
  it('downloads, checks and stores a tarball, its single top folder stripped', async () => {
    const got = await fetchPackage(store, `${base}/drive.tar.gz`, 'webapp', opts({ expectedSlug: 'drive' }));
    const bytes = served.get('/drive.tar.gz') ?? Buffer.alloc(0);
    expect(got).toMatchObject({ version: '1.2.3', sha256: sha256(bytes), source: `${base}/drive.tar.gz`, written: true, manifest: { slug: 'drive' } });
    expect(readFileSync(join(await store.materialize(got.sha256), 'index.html'), 'utf8')).toBe('<html>drive</html>');
    expect(await store.refs({ instanceId: 'i1' })).toContainEqual({ instanceId: 'i1', kind: 'webapp', slug: 'drive', sha256: got.sha256 });
    expect(readdirSync(store.scratchDir)).toEqual([]);
  });

  it('checks the #sha256 fragment: a match stores, a mismatch refuses and stores nothing', async () => {
    const bytes = served.get('/bank.tgz') ?? Buffer.alloc(0);
    const before = await snapshot();
    const err = await refused(fetchPackage(store, `${base}/bank.tgz#${'0'.repeat(64)}`, 'konnector', opts()));
    expect(err).toBeInstanceOf(BadPackage);
    expect((err as BadPackage).reason).toMatch(/not the expected 0000/);
    await nothingLeft(before);
    const got = await fetchPackage(store, `${base}/bank.tgz#${sha256(bytes).toUpperCase()}`, 'konnector', opts());
    expect(got).toMatchObject({ sha256: sha256(bytes), version: '3.0.0', manifest: { slug: 'bank', type: 'konnector' } });
    expect(await refused(fetchPackage(store, `${base}/bank.tgz#not-a-sha`, 'konnector', opts()))).toBeInstanceOf(InvalidSource);
  });

  it('follows a few redirects, not a loop', async () => {
    const got = await fetchPackage(store, `${base}/redirect/3`, 'webapp', opts({ instanceId: 'i2' }));
    expect(got.manifest.slug).toBe('drive');
    expect(requests).toEqual(['/redirect/3', '/redirect/2', '/redirect/1', '/redirect/0', '/drive.tar.gz']);
    const before = await snapshot();
    expect(((await refused(fetchPackage(store, `${base}/loop`, 'webapp', opts()))) as BadPackage).reason).toMatch(/redirects more than 5 times/);
    await nothingLeft(before);
  });

  it('a missing package is 404, a failing or unreachable server 400, and nothing is left', async () => {
    const before = await snapshot();
    expect(await refused(fetchPackage(store, `${base}/nope.tar.gz`, 'webapp', opts()))).toBeInstanceOf(NotFound);
    const broken = await refused(fetchPackage(store, `${base}/broken`, 'webapp', opts()));
    expect(broken).toBeInstanceOf(BadPackage);
    expect((broken as BadPackage).reason).toMatch(/HTTP 500/);
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const unreachable = await refused(fetchPackage(store, `http://127.0.0.1:${port}/x.tar.gz`, 'webapp', opts()));
    expect((unreachable as BadPackage).status).toBe(400);
    expect((unreachable as BadPackage).reason).toMatch(/could not be reached \(ECONNREFUSED\)/);
    await nothingLeft(before);
  });

  it('a download larger than any package, or one that does not come in time, is cut and leaves nothing', async () => {
    const before = await snapshot();
    const small = { maxEntries: 10, maxUnpackedBytes: 2 * 1024 * 1024 };
    const big = await refused(fetchPackage(store, `${base}/endless`, 'webapp', opts({ limits: small })));
    expect((big as BadPackage).reason).toMatch(/is larger than \d+ bytes/);
    const late = await refused(fetchPackage(store, `${base}/hang`, 'webapp', opts({ timeoutMs: 300 })));
    expect(late).toBeInstanceOf(BadPackage);
    expect((late as BadPackage).reason).toMatch(/could not be reached/);
    await nothingLeft(before);
  });

  it('a hostile tarball, or one for another slug or kind, is refused and leaves nothing', async () => {
    const before = await snapshot();
    expect(((await refused(fetchPackage(store, `${base}/evil.tar.gz`, 'webapp', opts()))) as BadPackage).reason).toMatch(/"\.\." segment/);
    expect(((await refused(fetchPackage(store, `${base}/drive.tar.gz`, 'webapp', opts({ expectedSlug: 'photos', instanceId: 'i9' })))) as BadPackage).reason)
      .toMatch(/not "photos"/);
    expect(((await refused(fetchPackage(store, `${base}/drive.tar.gz`, 'konnector', opts({ instanceId: 'i9' })))) as BadPackage).reason)
      .toMatch(/no manifest.konnector/);
    await nothingLeft(before);
  });
});

describe('registry sources', () => {
  const calls: Array<[string, string]> = [];
  const bankBytes = () => served.get('/bank.tgz') ?? Buffer.alloc(0);
  const resolveRegistry = async (slug: string, channelOrVersion: string): Promise<RegistryVersion> => {
    calls.push([slug, channelOrVersion]);
    if (slug !== 'bank') throw new NotFound(`${slug} is not in the registry`);
    return { version: '3.0.0', url: `${base}/bank.tgz`, sha256: sha256(bankBytes()), tar_prefix: 'build', type: 'konnector' };
  };

  it('installs the version the resolver gives; another instance then only adds its reference, without downloading', async () => {
    const a = await fetchPackage(store, 'registry://bank', 'konnector', opts({ instanceId: 'r1', resolveRegistry }));
    expect(a).toMatchObject({ version: '3.0.0', sha256: sha256(bankBytes()), source: 'registry://bank/stable', manifest: { slug: 'bank' } });
    requests.length = 0;
    const b = await fetchPackage(store, 'registry://bank/beta', 'konnector', opts({ instanceId: 'r2', resolveRegistry, expectedSlug: 'bank' }));
    expect(b).toMatchObject({ version: '3.0.0', sha256: a.sha256, written: false, source: 'registry://bank/beta' });
    expect(requests).toEqual([]);
    const c = await fetchPackage(store, 'registry://bank/stable/3.0.0', 'konnector', opts({ instanceId: 'r3', resolveRegistry }));
    expect(c.source).toBe('registry://bank/stable/3.0.0');
    await fetchPackage(store, 'registry://bank/3.0.0', 'konnector', opts({ instanceId: 'r4', resolveRegistry }));
    expect(calls).toEqual([['bank', 'stable'], ['bank', 'beta'], ['bank', '3.0.0'], ['bank', '3.0.0']]);
    expect((await store.refs({ sha256: a.sha256 })).map((r) => r.instanceId)).toEqual(expect.arrayContaining(['r1', 'r2', 'r3', 'r4']));
  });

  it('refuses a tarball whose sha256 is not the registry one, a wrong kind, an unknown app, no registry', async () => {
    const before = await snapshot();
    const lying = async (): Promise<RegistryVersion> => ({ version: '9.0.0', url: `${base}/drive.tar.gz`, sha256: 'a'.repeat(64), type: 'webapp' });
    expect(((await refused(fetchPackage(store, 'registry://drive', 'webapp', opts({ resolveRegistry: lying })))) as BadPackage).reason).toMatch(/not the expected a{64}/);
    expect(((await refused(fetchPackage(store, 'registry://bank', 'webapp', opts({ resolveRegistry })))) as BadPackage).reason).toMatch(/is a konnector in the registry/);
    expect(await refused(fetchPackage(store, 'registry://photos', 'webapp', opts({ resolveRegistry })))).toBeInstanceOf(NotFound);
    expect(await refused(fetchPackage(store, 'registry://bank', 'konnector', opts()))).toBeInstanceOf(InvalidSource);
    expect(await refused(fetchPackage(store, 'registry://bank/nightly/1.0.0', 'konnector', opts({ resolveRegistry })))).toBeInstanceOf(InvalidSource);
    expect(await refused(fetchPackage(store, 'registry://bank', 'konnector', opts({ resolveRegistry, expectedSlug: 'other' })))).toBeInstanceOf(InvalidSource);
    await nothingLeft(before);
  });
});

describe('file:// and other sources', () => {
  it('installs a folder in dev; the same content is the same sha256; outside dev it is 422 on Source', async () => {
    const app = join(dir, 'devapp');
    mkdirSync(join(app, 'js'), { recursive: true });
    writeFileSync(join(app, 'manifest.webapp'), JSON.stringify({ slug: 'devapp', version: '0.1.0' }));
    writeFileSync(join(app, 'js', 'main.js'), 'main()');
    const url = pathToFileURL(app).href;
    const a = await fetchPackage(store, url, 'webapp', opts({ dev: true }));
    expect(a).toMatchObject({ version: '0.1.0', written: true, manifest: { slug: 'devapp' }, source: url });
    expect(readFileSync(join(await store.materialize(a.sha256), 'js', 'main.js'), 'utf8')).toBe('main()');
    expect(await fetchPackage(store, url, 'webapp', opts({ dev: true, instanceId: 'i2' }))).toMatchObject({ sha256: a.sha256, written: false });
    writeFileSync(join(app, 'js', 'main.js'), 'main(2)');
    expect((await fetchPackage(store, url, 'webapp', opts({ dev: true }))).sha256).not.toBe(a.sha256);
    const err = await refused(fetchPackage(store, url, 'webapp', opts()));
    expect(err).toBeInstanceOf(InvalidSource);
    expect(err).toMatchObject({ status: 422, parameter: 'Source' });
  });

  it('refuses a link leaving the folder', async () => {
    const app = join(dir, 'linked');
    mkdirSync(app);
    writeFileSync(join(app, 'manifest.webapp'), JSON.stringify({ slug: 'linked' }));
    symlinkSync('/etc/passwd', join(app, 'passwd'));
    const before = await snapshot();
    expect(((await refused(fetchPackage(store, pathToFileURL(app).href, 'webapp', opts({ dev: true })))) as BadPackage).reason).toMatch(/link leaving the folder/);
    await nothingLeft(before);
  });

  it('refuses unsupported schemes and garbage with 422', async () => {
    for (const source of ['git+ssh://git@github.com/cozy/drive.git', 'ssh://github.com/cozy/drive.git', 'ftp://x/y.tar.gz', 'not a url', '']) {
      const err = await refused(fetchPackage(store, source, 'webapp', opts()));
      expect(err, source).toBeInstanceOf(InvalidSource);
      expect(err).toMatchObject({ status: 422 });
    }
  });
});
