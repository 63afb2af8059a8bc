/**
 * The built-in apps' client (webapps/shared/client.ts) against a real server: the stack client's JSON calls are made
 * with a plain fetch until cozy-client is needed (a page's first data does not wait for its code), failing with
 * cozy-stack-client's FetchError as cozy-client would (the status and the stack's JSON-API error, which the apps'
 * messages read); a refused token is tried again through cozy-client (which renews a token on those); collections load cozy-client, and from then on every call
 * goes through it. The raw fetch (`getStackClient().fetch`: a binary, a text) is made the same way; its renewal of a
 * refused token, which needs the app's page, is tested in Chromium (test/browser/webapps-smoke.test.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type TestHearth } from '../helpers/hearth.js';

interface Stack {
  fetchJSON(method: string, path: string, body?: unknown): Promise<unknown>;
  fetch(method: string, path: string, body?: unknown, options?: { headers?: Record<string, string> }): Promise<Response>;
}
interface AppClient {
  readonly loaded: boolean;
  getStackClient(): Stack;
  collection(doctype: string): { all(): Promise<{ data: Array<Record<string, unknown>> }> };
}
type AppClientClass = new (o: { uri: string; token: string; slug: string }) => AppClient;

let h: TestHearth;
let token: string;
let filesToken: string;
let AppClient: AppClientClass;
const tmp = mkdtempSync(join(tmpdir(), 'hearth-webapps-client-'));

// the module as the apps' bundles have it (webapps/ is type-checked for the browser, on its own tsconfig), for Node
beforeAll(async () => {
  const out = join(tmp, 'client.cjs');
  await build({ entryPoints: [join(import.meta.dirname, '..', '..', 'webapps', 'shared', 'client.ts')], bundle: true, outfile: out, format: 'cjs', platform: 'node', logLevel: 'error' });
  AppClient = (createRequire(import.meta.url)(out) as { AppClient: AppClientClass }).AppClient;
  h = await startTestHearth();
  token = await h.cliToken('io.cozy.contacts');
  filesToken = await h.cliToken('io.cozy.files');
}, 120_000);
afterAll(async () => {
  await h?.close();
  rmSync(tmp, { recursive: true, force: true });
});

const make = (t = token): AppClient => new AppClient({ uri: h.url, token: t, slug: 'home' });

describe('the apps\' client before cozy-client is loaded', () => {
  it('reads and writes JSON with a plain fetch and the app token', async () => {
    const c = make();
    const created = (await c.getStackClient().fetchJSON('POST', '/data/io.cozy.contacts/', { fullname: 'Ada Lovelace' })) as { id: string; data: { fullname: string } };
    expect(created.data.fullname).toBe('Ada Lovelace');
    const read = (await c.getStackClient().fetchJSON('GET', `/data/io.cozy.contacts/${created.id}`)) as { fullname: string };
    expect(read.fullname).toBe('Ada Lovelace');
    expect(c.loaded).toBe(false);
  });

  it('fails with cozy-stack-client\'s FetchError: the status and the stack\'s JSON error', async () => {
    const c = make();
    const e = (await c.getStackClient().fetchJSON('GET', '/data/io.cozy.contacts/nope').catch((x: unknown) => x)) as { name: string; status: number; reason: unknown };
    expect(e.name).toBe('FetchError');
    expect(e.status).toBe(404);
    expect(e.reason).toMatchObject({ error: 'not_found' });
    // a doctype the token does not grant
    const f = (await c.getStackClient().fetchJSON('GET', '/data/io.cozy.files/io.cozy.files.root-dir').catch((x: unknown) => x)) as { name: string; status: number };
    expect([f.name, f.status]).toEqual(['FetchError', 403]);
    expect(c.loaded).toBe(false);
  });

  it('tries a refused token again through cozy-client, which answers with its own FetchError', async () => {
    // a token of another instance: well formed, but not signed by this one (cozy-client tries to renew it, which a
    // page of the stack would do, and fails here)
    const c = make(await h.cliToken('io.cozy.contacts', h.other));
    const e = (await c.getStackClient().fetchJSON('GET', '/data/io.cozy.contacts/_all_docs').catch((x: unknown) => x)) as { name: string; status: number; message: string };
    expect([e.name, e.status, e.message]).toEqual(['FetchError', 400, 'Invalid token']);
    expect(c.loaded).toBe(true);
  });
});

describe('the apps\' raw fetch before cozy-client is loaded', () => {
  it('sends a body with its type and reads a text back with a plain fetch and the app token', async () => {
    const c = make(filesToken);
    const stack = c.getStackClient();
    const up = await stack.fetch('POST', '/files/io.cozy.files.root-dir?Type=file&Name=raw.txt', 'raw bytes', { headers: { 'Content-Type': 'text/plain' } });
    const id = ((await up.json()) as { data: { id: string } }).data.id;
    const down = await stack.fetch('GET', `/files/download/${id}`);
    expect([down.status, down.headers.get('content-type'), await down.text()]).toEqual([200, 'text/plain', 'raw bytes']);
    expect(c.loaded).toBe(false);
  });

  it('fails with cozy-stack-client\'s FetchError on a response that is not ok', async () => {
    const c = make(filesToken);
    const e = (await c.getStackClient().fetch('GET', '/files/download/nope').catch((x: unknown) => x)) as { name: string; status: number; reason: unknown };
    expect([e.name, e.status]).toEqual(['FetchError', 404]);
    expect(c.loaded).toBe(false);
  });

  it('on a refused token, loads cozy-client to renew it, and answers the refusal when it cannot be renewed', async () => {
    // a token of another instance; the renewal reads the app's page again (`/?refreshToken`), which Node has not got
    const c = make(await h.cliToken('io.cozy.files', h.other));
    const e = (await c.getStackClient().fetch('GET', '/files/io.cozy.files.root-dir').catch((x: unknown) => x)) as { name: string; status: number; message: string };
    expect([e.name, e.status, e.message]).toEqual(['FetchError', 400, 'Invalid token']);
    expect(c.loaded).toBe(true);
  });
});

describe('the apps\' client and an early script\'s request (webapps/shared/early.ts)', () => {
  const early = globalThis as { __hearthEarly?: Record<string, Promise<Response>> };
  const ask = (path: string, t: string) => fetch(h.url + path, { headers: { Accept: 'application/json', Authorization: `Bearer ${t}` } });
  const names = (r: unknown) => ((r as { rows: Array<{ doc?: { fullname?: string } }> }).rows).map((x) => x.doc?.fullname);

  it('answers its first GET of the path with the early response, once; the next one is asked again', async () => {
    const c = make();
    const path = '/data/io.cozy.contacts/_all_docs?include_docs=true';
    early.__hearthEarly = { [path]: ask(path, token) };
    await early.__hearthEarly[path];
    await c.getStackClient().fetchJSON('POST', '/data/io.cozy.contacts/', { fullname: 'Early Bird' });
    // the early response was made before that contact was created: the first GET is that response, the second a new one
    expect(names(await c.getStackClient().fetchJSON('GET', path))).not.toContain('Early Bird');
    expect(names(await c.getStackClient().fetchJSON('GET', path))).toContain('Early Bird');
    expect(early.__hearthEarly).toEqual({});
  });

  it('asks again when the early response is not ok (a refused token) or failed', async () => {
    const c = make();
    const path = '/data/io.cozy.contacts/_all_docs?include_docs=true';
    const other = '/data/io.cozy.contacts/_all_docs?limit=1';
    const failed = Promise.reject(new TypeError('Failed to fetch'));
    failed.catch(() => undefined); // as the early script does: the failure is the app's to see
    early.__hearthEarly = { [path]: ask(path, 'not-a-token'), [other]: failed };
    expect((await early.__hearthEarly[path])?.ok).toBe(false);
    expect(names(await c.getStackClient().fetchJSON('GET', path))).toContain('Early Bird');
    expect(await c.getStackClient().fetchJSON('GET', other)).toMatchObject({ total_rows: expect.any(Number) });
    expect(c.loaded).toBe(false);
    delete early.__hearthEarly;
  });
});

describe('the apps\' client with cozy-client', () => {
  it('loads cozy-client for a collection, then makes every call through it', async () => {
    const c = make();
    await c.getStackClient().fetchJSON('POST', '/data/io.cozy.contacts/', { fullname: 'Grace Hopper' });
    expect(c.loaded).toBe(false);
    // a collection is not a thenable (awaiting it gives it back), and asks nothing of the stack until a method is called
    const collection = await c.collection('io.cozy.contacts');
    expect(c.loaded).toBe(false);
    const all = await collection.all();
    expect(all.data.map((d) => d.fullname)).toContain('Grace Hopper');
    expect(c.loaded).toBe(true);
    const e = (await c.getStackClient().fetchJSON('GET', '/data/io.cozy.contacts/nope').catch((x: unknown) => x)) as { name: string; status: number };
    expect([e.name, e.status]).toEqual(['FetchError', 404]);
    // the raw fetch too, failing all the same (cozy-stack-client's own would answer the 404 response)
    const raw = (await c.getStackClient().fetch('GET', '/files/download/nope').catch((x: unknown) => x)) as { name: string; status: number };
    expect([raw.name, raw.status]).toEqual(['FetchError', 404]);
    expect((await c.getStackClient().fetch('GET', '/data/io.cozy.contacts/_all_docs')).status).toBe(200);
  });
});
