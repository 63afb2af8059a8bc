/**
 * Updates, permissions, services and uninstall through the real server (cozy-apps.md §4.4–4.5, §5): an update that
 * adds permissions waits for PermissionsAcked, rules added with PATCH survive it, service triggers follow the
 * manifest, uninstall cleans up (and refuses an app with an OAuth client), and an uninstall under a running service
 * is safe. (A konnector run from its installed code: registry.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPackageServer, type PackageServer } from '../../../test/helpers/app-packages.js';
import { startTestHearth, type TestHearth } from '../../../test/helpers/hearth.js';
import { until } from '../../../test/helpers/jobs.js';
import type { JobDoc } from '../../jobs/types.js';

let h: TestHearth;
let pkgs: PackageServer;
let token: string;

beforeAll(async () => {
  h = await startTestHearth({ jobs: { konnectorsDir: null, appsDir: null, sandboxMemoryMb: 128, sandboxOutputBytes: 256 * 1024, eventSweepMs: 30_000 } });
  pkgs = await startPackageServer();
  token = await h.cliToken('io.cozy.apps io.cozy.konnectors io.cozy.permissions io.cozy.triggers io.cozy.notes io.cozy.bills');
});
afterAll(async () => {
  await h.close();
  await pkgs.close();
});

const webapp = (slug: string, version: string, extra: Record<string, unknown>) => ({ 'manifest.webapp': { slug, type: 'webapp', version, ...extra }, 'index.html': '<html></html>' });

async function settle(slug: string, route = '/apps') {
  for (let i = 0; i < 400; i++) {
    const res = await h.req('GET', `${route}/${slug}`, { token });
    if (!['installing', 'upgrading'].includes(res.body?.data?.attributes?.state)) return res.body?.data?.attributes;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${slug} never settled`);
}

async function install(slug: string, files: Record<string, string | object>, route = '/apps') {
  const url = await pkgs.add(`${slug}-${Date.now()}`, files);
  const res = await h.req('POST', `${route}/${slug}?Source=${encodeURIComponent(url)}`, { token });
  expect(res.status).toBe(202);
  return settle(slug, route);
}

async function update(slug: string, files: Record<string, string | object> | null, query = '') {
  const url = files ? await pkgs.add(`${slug}-${Date.now()}`, files) : null;
  const q = [url ? `Source=${encodeURIComponent(url)}` : '', query].filter(Boolean).join('&');
  const res = await h.req('PUT', `/apps/${slug}?${q}`, { token });
  expect(res.status).toBe(202);
  return settle(slug);
}

const serviceTriggers = async () => (await h.hearth.jobs.scheduler.list(h.domain, { workers: ['service'] })).map((t) => ({ id: t._id, type: t.type, arguments: t.arguments, message: t.message }));

describe('updates and permissions', () => {
  it('keeps the old version until PermissionsAcked when the permissions change, and keeps PATCH-added rules', async () => {
    const contacts = { type: 'io.cozy.contacts', verbs: ['GET'] };
    const v1 = await install('editor', webapp('editor', '1.0.0', { permissions: { contacts } }));
    const patched = await h.req('PATCH', '/permissions/apps/editor', { token, body: { data: { type: 'io.cozy.permissions', attributes: { permissions: { notes: { type: 'io.cozy.notes' } } } } } });
    expect(patched.status).toBe(200);
    expect(patched.body.data.attributes.permissions).toEqual({ contacts, notes: { type: 'io.cozy.notes' } });

    const files = { type: 'io.cozy.files', verbs: ['GET'] };
    const waiting = await update('editor', webapp('editor', '2.0.0', { permissions: { contacts, files } }));
    expect(waiting).toMatchObject({ state: 'ready', version: '1.0.0', available_version: '2.0.0', checksum: v1.checksum });
    expect((await h.hearth.perms.appPermissions(h.instance, 'app', 'editor'))?.permissions).toEqual({ contacts, notes: { type: 'io.cozy.notes' } });

    const acked = await update('editor', null, 'PermissionsAcked=true');
    expect(acked).toMatchObject({ state: 'ready', version: '2.0.0' });
    expect(acked.available_version).toBeUndefined();
    expect((await h.hearth.perms.appPermissions(h.instance, 'app', 'editor'))?.permissions).toEqual({ contacts, files, notes: { type: 'io.cozy.notes' } });
    // the old version's reference goes once the new doc is written (the journal's undo needs its code until then)
    const editorRefs = async () => (await h.hearth.appCode.refs({ instanceId: h.instance.id })).filter((r) => r.slug === 'editor').map((r) => r.sha256);
    await until(async () => (await editorRefs()).length === 1, 10_000);
    expect(await editorRefs()).toEqual([acked.checksum]);
  });

  it('refuses a PATCH granting more than the caller holds, and one for an app not installed', async () => {
    const narrow = await h.cliToken('io.cozy.permissions');
    const body = { data: { type: 'io.cozy.permissions', attributes: { permissions: { all: { type: 'io.cozy.files' } } } } };
    expect((await h.req('PATCH', '/permissions/apps/editor', { token: narrow, body })).status).toBe(403);
    expect((await h.req('PATCH', '/permissions/apps/absent', { token, body: { data: { attributes: { permissions: { n: { type: 'io.cozy.notes' } } } } } })).status).toBe(404);
  });
});

describe('services', () => {
  it('creates the services\' triggers at install, diffs them on update, removes them at uninstall', async () => {
    const v1 = await install('svc', webapp('svc', '1.0.0', {
      services: {
        nightly: { type: 'node', file: 'nightly.js', trigger: '@cron 0 0 0 * * *' },
        onbill: { type: 'node', file: 'onbill.js', trigger: '@event io.cozy.bills:CREATED' },
        called: { type: 'node', file: 'called.js' },
      },
    }));
    const nightly = v1.services.nightly.trigger_id as string;
    const onbill = v1.services.onbill.trigger_id as string;
    expect(v1.services.called.trigger_id).toBeUndefined();
    expect((await serviceTriggers()).sort((a, b) => a.type.localeCompare(b.type))).toEqual([
      { id: nightly, type: '@cron', arguments: '0 0 0 * * *', message: { slug: 'svc', name: 'nightly' } },
      { id: onbill, type: '@event', arguments: 'io.cozy.bills:CREATED', message: { slug: 'svc', name: 'onbill' } },
    ]);

    const v2 = await update('svc', webapp('svc', '2.0.0', {
      services: {
        nightly: { type: 'node', file: 'nightly.js', trigger: '@cron 0 0 0 * * *' },
        onbill: { type: 'node', file: 'onbill.js', trigger: '@event io.cozy.bills:UPDATED' },
      },
    }));
    expect(v2.version).toBe('2.0.0');
    expect(v2.services.nightly.trigger_id).toBe(nightly);
    expect(v2.services.onbill.trigger_id).not.toBe(onbill);
    expect((await serviceTriggers()).map((t) => t.id).sort()).toEqual([nightly, v2.services.onbill.trigger_id].sort());

    const del = await h.req('DELETE', '/apps/svc', { token });
    expect(del.status).toBe(200);
    expect(await serviceTriggers()).toEqual([]);
    expect(await h.hearth.perms.appPermissions(h.instance, 'app', 'svc')).toBeNull();
    expect((await h.hearth.appCode.refs({ instanceId: h.instance.id })).filter((r) => r.slug === 'svc')).toEqual([]);
    expect((await h.req('GET', '/apps/svc', { token })).status).toBe(404);
  });

  it('uninstalls an app while its service runs: the run ends, nothing breaks', async () => {
    const slow = `await new Promise((r) => setTimeout(r, 1500));
const res = await fetch(process.env.COZY_URL + '/data/io.cozy.notes/', { method: 'POST', headers: { authorization: 'Bearer ' + process.env.COZY_CREDENTIALS, 'content-type': 'application/json' }, body: '{"late":true}' });
console.log(JSON.stringify({ type: res.ok ? 'info' : 'error', message: 'wrote ' + res.status }));`;
    const busy = await install('busy', { ...webapp('busy', '1.0.0', { permissions: { notes: { type: 'io.cozy.notes' } }, services: { slow: { type: 'node', file: 'slow.js' } } }), 'package.json': '{"type":"module"}', 'slow.js': slow });
    const job = await h.hearth.jobs.engine.push(h.domain, { worker: 'service', message: { slug: 'busy', name: 'slow' }, options: { max_exec_count: 1 } });
    // the run holds its code by a reference of its own (apps/install/code.ts): wait for it, then uninstall
    await until(async () => (await h.hearth.appCode.refs({})).some((r) => r.slug === 'busy' && r.instanceId.startsWith('run:')), 10_000);
    expect((await h.req('DELETE', '/apps/busy', { token })).status).toBe(200);
    let end: JobDoc | null = null;
    await until(async () => ['done', 'errored'].includes((end = await h.hearth.jobs.engine.broker.get(h.domain, job._id))?.state ?? ''), 15_000);
    // its rights went with the app: the late write is refused and the run fails cleanly
    expect(end!.state).toBe('errored');
    expect(end!.error).toMatch(/wrote (400|403)/);
    expect((await h.req('GET', '/apps/', { token })).status).toBe(200);
    // the run's reference went with it, and the code with the last reference
    expect((await h.hearth.appCode.refs({})).filter((r) => r.slug === 'busy')).toEqual([]);
    expect(await h.hearth.appCode.has(busy.checksum)).toBe(false);
  });
});

describe('uninstall', () => {
  it('refuses a web app that an OAuth client names (software_id registry://<slug>)', async () => {
    await install('linked', webapp('linked', '1.0.0', {}));
    const reg = await h.req('POST', '/auth/register', { body: { redirect_uris: ['http://localhost/cb'], client_name: 'Linked', software_id: 'registry://linked' } });
    expect(reg.status).toBe(201);
    const res = await h.req('DELETE', '/apps/linked', { token });
    expect(res.status).toBe(400);
    expect(res.body.errors[0].detail).toMatch(/OAuth client/);
    expect((await h.req('GET', '/apps/linked', { token })).status).toBe(200);
  });
});

describe('konnectors', () => {
  it('runs on_delete_account for each account before uninstalling (202), then deletes the accounts', async () => {
    const script = `const f = JSON.parse(process.env.COZY_FIELDS);
const res = await fetch(process.env.COZY_URL + '/data/io.cozy.bills/', { method: 'POST', headers: { authorization: 'Bearer ' + process.env.COZY_CREDENTIALS, 'content-type': 'application/json' }, body: JSON.stringify({ deleted_account: f.account, flag: f.account_deleted }) });
console.log(JSON.stringify({ type: res.ok ? 'info' : 'error', message: 'cleaned ' + res.status }));`;
    const manifest = { slug: 'goodbye', type: 'konnector', version: '1.0.0', main: 'index.js', on_delete_account: 'ondelete.js', permissions: { bills: { type: 'io.cozy.bills' } } };
    await install('goodbye', { 'manifest.konnector': manifest, 'package.json': '{"type":"module"}', 'index.js': '', 'ondelete.js': script }, '/konnectors');
    await h.hearth.storeOf(h.instance).put('io.cozy.accounts', { _id: 'acc-goodbye', account_type: 'goodbye' });
    const res = await h.req('DELETE', '/konnectors/goodbye', { token });
    expect(res.status).toBe(202);
    await until(async () => (await h.req('GET', '/konnectors/goodbye', { token })).status === 404, 20_000);
    const bills = await h.req('GET', '/data/io.cozy.bills/_all_docs?include_docs=true', { token });
    expect(bills.body.rows.map((r: { doc?: Record<string, unknown> }) => r.doc).filter((d: Record<string, unknown> | undefined) => d?.deleted_account)).toEqual([
      expect.objectContaining({ deleted_account: 'acc-goodbye', flag: true }),
    ]);
    await expect(h.hearth.storeOf(h.instance).get('io.cozy.accounts', 'acc-goodbye')).rejects.toThrow();
    expect(await h.hearth.perms.appPermissions(h.instance, 'konnector', 'goodbye')).toBeNull();
  });

  it('uninstalls at once (200) a konnector without accounts', async () => {
    await install('plain', { 'manifest.konnector': { slug: 'plain', type: 'konnector', version: '1.0.0', on_delete_account: 'x.js' }, 'index.js': '' }, '/konnectors');
    expect((await h.req('DELETE', '/konnectors/plain', { token })).status).toBe(200);
    expect((await h.req('GET', '/konnectors/plain', { token })).status).toBe(404);
  });
});
