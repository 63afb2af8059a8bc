/**
 * A konnector written with the real cozy-konnector-libs (BaseKonnector, requestFactory, saveBills → saveFiles,
 * hydrateAndFilter/addData, updateOrCreate), bundled with esbuild as konnectors ship, run twice by a trigger in the
 * sandbox, on an instance named `konn.localhost:<port>` (a name Debian's resolver does not know). Its vendor is a
 * local HTTP server, reached as `vendor.localhost:<port>`. The first run saves the files, bills and bank account;
 * the second downloads nothing again and duplicates nothing.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type Res, type TestHearth } from '../../../test/helpers/hearth.js';
import { bundleKonnector } from '../../../test/helpers/konnector-bundle.js';
import { until } from '../../../test/helpers/jobs.js';
import { DEFAULTS } from '../../config/schema.js';
import type { Instance } from '../../instances/types.js';

const SOURCE = fileURLToPath(new URL('../../../test/fixtures/konnectors/hearth-energy', import.meta.url));
const LOGIN = 'alice@example.org';
// the third bill's PDF comes empty: the libs upload it, find it invalid and delete it for good (PATCH permanent_delete)
const BROKEN = 'B-2026-03';
const BILLS = [
  { ref: 'B-2026-01', amount: 42.5, date: '2026-01-31' },
  { ref: 'B-2026-02', amount: 39.9, date: '2026-02-28' },
  { ref: BROKEN, amount: 12, date: '2026-03-31' },
];
const pdf = (ref: string) => (ref === BROKEN ? '' : `%PDF-1.4\n% Hearth Energy bill ${ref}\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n`);
const good = (refs: string[]) => refs.filter((r) => r !== BROKEN).sort();

let dir: string;
let h: TestHearth;
let vendor: Server;
let vendorUrl: string;
let instance: Instance;
let domain: string;
const downloads: string[] = [];

/** The vendor's website: a login, a list of documents, their PDFs (each download counted). */
function vendorServer(): Server {
  const json = (res: ServerResponse, status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  const authed = (req: IncomingMessage) => req.headers.authorization === 'Bearer vendor-session';
  return createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/api/login') {
        const creds = JSON.parse(body || '{}') as { login?: string; password?: string };
        return creds.login === LOGIN && creds.password === 'vendor-pass' ? json(res, 200, { token: 'vendor-session' }) : json(res, 401, { error: 'bad credentials' });
      }
      if (!authed(req)) return json(res, 401, { error: 'not logged in' });
      if (req.url === '/api/documents') {
        return json(res, 200, { contract: { id: 'contract-1', name: 'Home contract', balance: -82.4 }, bills: BILLS.map((b) => ({ ...b, pdf: `/pdf/${b.ref}` })) });
      }
      const ref = /^\/pdf\/([\w-]+)$/.exec(req.url ?? '')?.[1];
      if (ref && BILLS.some((b) => b.ref === ref)) {
        downloads.push(ref);
        return res.writeHead(200, { 'content-type': 'application/pdf' }).end(pdf(ref));
      }
      json(res, 404, { error: 'not found' });
    });
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hearth-konnectors-'));
  const built = await bundleKonnector(SOURCE, dir);
  expect(built.bytes).toBeGreaterThan(1_000_000); // the libs and their dependencies, in one file
  vendor = vendorServer();
  await new Promise<void>((resolve) => vendor.listen(0, '127.0.0.1', resolve));
  vendorUrl = `http://vendor.localhost:${(vendor.address() as AddressInfo).port}`;
  h = await startTestHearth({ jobs: { ...DEFAULTS.jobs, konnectorsDir: dir, sandboxMemoryMb: 512 } });
  domain = `konn.localhost:${h.port}`;
  instance = await h.hearth.registry.create({ domain });
}, 120_000);

afterAll(async () => {
  await h?.close();
  vendor?.close();
  rmSync(dir, { recursive: true, force: true });
});

const req = async (method: string, path: string, scope: string, body?: unknown): Promise<Res> =>
  h.req(method, path, { token: await h.cliToken(scope, instance), host: domain, ...(body === undefined ? {} : { body }) });
/** The documents of a doctype, without the design documents of the indexes the libs define. */
const all = async (doctype: string) =>
  ((await req('GET', `/data/${doctype}/_all_docs?include_docs=true`, doctype)).body.rows as Array<{ id: string; doc: Record<string, unknown> }>).filter((r) => !r.id.startsWith('_design/')).map((r) => r.doc);
const folderFiles = async (path: string) => {
  const meta = await req('GET', `/files/metadata?Path=${encodeURIComponent(path)}`, 'io.cozy.files');
  expect(meta.status, meta.text).toBe(200);
  const contents = meta.body.data.relationships.contents.data as Array<{ id: string }>;
  return Promise.all(contents.map(async (c) => (await req('GET', `/files/${c.id}`, 'io.cozy.files')).body.data));
};

async function launch(triggerId: string): Promise<{ state: string; error?: string }> {
  const launched = await req('POST', `/jobs/triggers/${triggerId}/launch`, 'io.cozy.triggers:ALL:konnector:worker io.cozy.jobs:GET:konnector:worker');
  expect(launched.status, launched.text).toBe(201);
  const jobId = launched.body.data.id as string;
  let job: { state: string; error?: string } = { state: 'queued' };
  await until(async () => {
    job = (await req('GET', `/jobs/${jobId}`, 'io.cozy.jobs:GET:konnector:worker')).body.data.attributes;
    return job.state === 'done' || job.state === 'errored';
  }, 90_000);
  return job;
}

describe('a konnector built with cozy-konnector-libs, on a *.localhost instance', () => {
  it('saves its files, bills and bank account on the first run, and nothing again on the second', async () => {
    const account = await req('POST', '/data/io.cozy.accounts/', 'io.cozy.accounts', {
      account_type: 'hearth-energy', auth: { login: LOGIN, password: 'vendor-pass', vendor_url: vendorUrl },
    });
    expect(account.status, account.text).toBe(201);
    const folder = await req('POST', `/files/io.cozy.files.root-dir?Type=directory&Name=${encodeURIComponent('Hearth Energy')}`, 'io.cozy.files');
    expect(folder.status).toBe(201);
    const trigger = await req('POST', '/jobs/triggers', 'io.cozy.triggers:ALL:konnector:worker io.cozy.jobs:GET:konnector:worker', {
      data: { attributes: { type: '@cron', arguments: '0 0 3 * * *', worker: 'konnector', message: { konnector: 'hearth-energy', account: account.body.id, folder_to_save: folder.body.data.id } } },
    });
    expect(trigger.status, trigger.text).toBe(201);

    const first = await launch(trigger.body.data.id);
    expect(first, JSON.stringify(first)).toMatchObject({ state: 'done' });
    expect(downloads.sort()).toEqual(['B-2026-01', 'B-2026-02', BROKEN]);
    // the files: in the contract's sub-folder, marked with the account and the vendor's reference
    const files = await folderFiles('/Hearth Energy/Home contract');
    expect(files.map((f) => f.attributes.name).sort()).toEqual(['2026-01-31_hearth-energy_42.50EUR.pdf', '2026-02-28_hearth-energy_39.90EUR.pdf']);
    for (const f of files) {
      expect(f.attributes).toMatchObject({ mime: 'application/pdf', cozyMetadata: { createdByApp: 'hearth-energy', sourceAccount: account.body.id, sourceAccountIdentifier: LOGIN } });
      expect(f.attributes.metadata.fileIdAttributes).toMatch(/^B-2026-0[12]$/);
    }
    const trashed = (await req('GET', '/files/trash', 'io.cozy.files')).body.data as Array<{ attributes: { name: string } }>;
    expect(trashed.map((t) => t.attributes.name)).toEqual([]); // the empty one was destroyed, not trashed
    const contract = (await req('GET', `/files/metadata?Path=${encodeURIComponent('/Hearth Energy/Home contract')}`, 'io.cozy.files')).body.data;
    expect(contract.relationships.referenced_by.data).toEqual(expect.arrayContaining([
      { type: 'io.cozy.konnectors', id: 'io.cozy.konnectors/hearth-energy' },
      { type: 'io.cozy.accounts.sourceAccountIdentifier', id: LOGIN },
      { type: 'io.cozy.accounts.contracts', id: 'contract-1' },
    ]));
    // the bills, each linked to its file; the bank account
    const bills = await all('io.cozy.bills');
    expect(bills.map((b) => [b.vendorRef, b.amount, b.currency]).sort()).toEqual([['B-2026-01', 42.5, 'EUR'], ['B-2026-02', 39.9, 'EUR']]);
    const fileIds = new Set(files.map((f) => `io.cozy.files:${f.id}`));
    for (const b of bills) expect(fileIds.has(String(b.invoice))).toBe(true);
    const banks = await all('io.cozy.bank.accounts');
    expect(banks).toEqual([expect.objectContaining({ vendorId: 'contract-1', label: 'Home contract', balance: -82.4 })]);

    const revs = new Map<string, string>([...files.map((f): [string, string] => [f.id, f.meta.rev]), ...bills.map((b): [string, string] => [String(b._id), String(b._rev)])]);
    const second = await launch(trigger.body.data.id);
    expect(second, JSON.stringify(second)).toMatchObject({ state: 'done' });
    // nothing downloaded, uploaded or written again (but the broken one, which the libs try again)
    expect(good(downloads)).toEqual(['B-2026-01', 'B-2026-02']);
    const filesAfter = await folderFiles('/Hearth Energy/Home contract');
    const billsAfter = await all('io.cozy.bills');
    const banksAfter = await all('io.cozy.bank.accounts');
    expect(filesAfter).toHaveLength(2);
    expect(billsAfter).toHaveLength(2);
    expect(banksAfter.map((b) => b._id)).toEqual(banks.map((b) => b._id)); // updateOrCreate updates it in place
    for (const f of filesAfter) expect([f.id, f.meta.rev]).toEqual([f.id, revs.get(f.id)]);
    for (const b of billsAfter) expect([b._id, b._rev]).toEqual([b._id, revs.get(String(b._id))]);
    expect((await req('GET', '/files/metadata?Path=%2FHearth%20Energy', 'io.cozy.files')).body.data.relationships.contents.data).toHaveLength(1);
  }, 180_000);
});
