/**
 * POST /notifications end to end: a real Hearth, apps and a konnector declared by manifests on disk, mail
 * through a real SMTP server (smtp-server) parsed back with mailparser, the CREATED event on the bus.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DocEvent } from '../common/bus.js';
import { DEFAULTS } from '../config/schema.js';
import { startTestHearth, type TestHearth } from '../../test/helpers/hearth.js';
import { until } from '../../test/helpers/jobs.js';
import { startTestSmtp, type TestSmtp } from '../../test/helpers/smtp.js';

let h: TestHearth;
let smtp: TestSmtp;
let dir: string;
const events: DocEvent[] = [];
const JSONAPI = { 'content-type': 'application/vnd.api+json' };
const body = (attributes: Record<string, unknown>) => ({ data: { type: 'io.cozy.notifications', attributes } });

function manifest(base: string, slug: string, file: string, json: Record<string, unknown>): void {
  mkdirSync(join(base, slug), { recursive: true });
  writeFileSync(join(base, slug, file), JSON.stringify({ slug, ...json }));
}

beforeAll(async () => {
  smtp = await startTestSmtp();
  dir = mkdtempSync(join(tmpdir(), 'hearth-notif-'));
  const apps = join(dir, 'apps');
  const konnectors = join(dir, 'konnectors');
  manifest(apps, 'bank', 'manifest.webapp', {
    notifications: {
      'account-balance': { description: 'Negative balance', stateful: true, multiple: true, default_priority: 'high' },
      report: { description: 'Monthly report' },
    },
  });
  manifest(apps, 'other', 'manifest.webapp', { notifications: { secret: { description: 'Only for other' } } });
  manifest(apps, 'plain', 'manifest.webapp', { name: 'No notifications' });
  manifest(konnectors, 'ameli', 'manifest.konnector', { type: 'konnector', notifications: { 'new-bill': {} } });
  h = await startTestHearth({ mail: smtp.config, jobs: { ...structuredClone(DEFAULTS.jobs), appsDir: apps, konnectorsDir: konnectors } });
  await h.hearth.registry.modify(h.domain, { email: 'alice@example.org', publicName: 'Alice <b>Owner</b>' });
  h.hearth.bus.subscribe(h.domain, 'io.cozy.notifications', (e) => events.push(e));
});
afterAll(async () => {
  await h.close();
  await smtp.close();
  rmSync(dir, { recursive: true, force: true });
});

async function appAuth(slug: string, scope: string): Promise<{ token: string; headers: Record<string, string> }> {
  await h.hearth.perms.grant(h.instance, 'app', slug, scope);
  const { token, session_cookie } = await h.hearth.appToken(h.instance, slug);
  return { token, headers: { ...JSONAPI, cookie: `cozysessid=${session_cookie}` } };
}

async function owner(): Promise<Record<string, string>> {
  const { session_cookie } = await h.hearth.appToken(h.instance, 'settings');
  return { cookie: `cozysessid=${session_cookie}` };
}

const post = (token: string | undefined, attributes: Record<string, unknown>, headers: Record<string, string> = JSONAPI) =>
  h.req('POST', '/notifications', { ...(token ? { token } : {}), body: body(attributes), headers });

async function nextMail(before: number) {
  await until(() => smtp.received.length > before);
  return smtp.received[before]!;
}

describe('POST /notifications', () => {
  it('a system notification from a CLI token: stored, published on the bus, mailed to the owner with escaped HTML', async () => {
    const token = await h.cliToken('io.cozy.notifications:POST');
    const before = smtp.received.length;
    const r = await post(token, { category: 'system', title: 'Disk <script>alert(1)</script> almost full', message: 'You use 95% of "your" space\n& more', data: { used: 95 } });
    expect(r.status).toBe(201);
    expect(r.headers['content-type']).toContain('application/vnd.api+json');
    const d = r.body.data;
    expect(d).toMatchObject({
      type: 'io.cozy.notifications',
      attributes: {
        source_id: 'cozy/cli//system/', originator: 'cli', category: 'system', priority: 'normal',
        title: 'Disk <script>alert(1)</script> almost full', message: 'You use 95% of "your" space\n& more', data: { used: 95 },
      },
      meta: { rev: expect.stringMatching(/^1-/), channels: { in_app: true, mail: true } },
      links: { self: `/notifications/${d.id}` },
    });
    expect(d.id).toMatch(/^[0-9a-f]{32}$/);
    expect(d.attributes.preferred_channels).toBeUndefined();
    expect(Date.parse(d.attributes.created_at)).toBeGreaterThan(Date.now() - 60_000);
    // in-app: the CREATED event on the bus, for the realtime layer
    const event = events.find((e) => e.id === d.id);
    expect(event).toMatchObject({ domain: h.domain, doctype: 'io.cozy.notifications', verb: 'CREATED', doc: { title: d.attributes.title } });
    // by mail, through the sendmail job and the SMTP server
    const got = await nextMail(before);
    expect(got.to).toEqual(['alice@example.org']);
    expect(got.mail.subject).toBe('Disk <script>alert(1)</script> almost full');
    const html = String(got.mail.html);
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<b>Owner</b>');
    expect(html).toContain('Disk &lt;script&gt;alert(1)&lt;/script&gt; almost full');
    expect(html).toContain('You use 95% of &quot;your&quot; space<br>&amp; more');
    expect(html).toContain(`<a href="http://${h.domain}" style="color:#0969da">Alice &lt;b&gt;Owner&lt;/b&gt;</a>`);
    expect(got.mail.text).toContain('You use 95% of "your" space\n& more');
    expect(got.mail.text).toContain(`Sent by your Hearth from Alice <b>Owner</b>'s Hearth: http://${h.domain}`);
    const job = (await h.hearth.jobs.engine.broker.list(h.domain, { worker: 'sendmail', limit: 10 }))[0]!;
    expect(job.message).toMatchObject({ mode: 'noreply', subject: expect.any(String) });
  });

  it('an app under its own category: source, slug, default priority; mailed only when it asks for it; stateful dedupe', async () => {
    const { token, headers } = await appAuth('bank', 'io.cozy.notifications:POST');
    const before = smtp.received.length;
    const r = await post(token, { category: 'account-balance', category_id: 'my-bank', title: 'Balance is negative', state: '-1' }, headers);
    expect(r.status).toBe(201);
    expect(r.body.data.attributes).toMatchObject({ source_id: 'cozy/app/bank/account-balance/my-bank', originator: 'app', slug: 'bank', priority: 'high', state: '-1' });
    expect(r.body.data.meta.channels).toEqual({ in_app: true, mail: false });
    // the same state again: nothing new (cozy-stack's stateful categories)
    const again = await post(token, { category: 'account-balance', category_id: 'my-bank', title: 'Balance is negative', state: '-1' }, headers);
    expect(again.status).toBe(200);
    expect(again.body.data.id).toBe(r.body.data.id);
    expect(again.body.data.meta).toMatchObject({ unchanged: true, channels: { in_app: false, mail: false } });
    // a new state, asking for a mail: stored and mailed
    const changed = await post(token, { category: 'account-balance', category_id: 'my-bank', title: 'Balance is back', state: '1', preferred_channels: ['mobile', 'mail'], priority: 'normal' }, headers);
    expect(changed.status).toBe(201);
    expect(changed.body.data.id).not.toBe(r.body.data.id);
    expect(changed.body.data.meta.channels).toEqual({ in_app: true, mail: true });
    const got = await nextMail(before);
    expect(got.mail.subject).toBe('Balance is back');
    expect(got.mail.text).toContain('Sent by the app bank from');
    expect(smtp.received.length).toBe(before + 1);
    // cozy-stack: a stateful notification whose state is false is recorded, not sent
    const off = await post(token, { category: 'account-balance', category_id: 'my-bank', title: 'Alerts off', state: false, preferred_channels: ['mail'] }, headers);
    expect(off.status).toBe(201);
    expect(off.body.data.meta.channels).toEqual({ in_app: true, mail: false });
  });

  it('a konnector under its categories', async () => {
    await h.hearth.perms.grant(h.instance, 'konnector', 'ameli', 'io.cozy.notifications:POST');
    const token = await h.hearth.tokens.issue(h.instance, { aud: 'konn', sub: 'ameli' });
    const r = await post(token, { category: 'new-bill', title: 'A new bill', content: 'The bill of March' });
    expect(r.status).toBe(201);
    expect(r.body.data.attributes).toMatchObject({ originator: 'konnector', slug: 'ameli', source_id: 'cozy/konnector/ameli/new-bill/', content: 'The bill of March' });
    expect(r.body.data.meta.channels).toEqual({ in_app: true, mail: true });
    expect((await post(token, { category: 'report', title: 'x' })).status).toBe(403);
  });

  it('an OAuth client under the categories of the app its software_id links to; the owner\'s session under system', async () => {
    const register = async (software_id: string) => {
      const r = await h.req('POST', '/auth/register', { body: { redirect_uris: ['https://app.example/cb'], client_name: 'Bank mobile', software_id } });
      expect(r.status).toBe(201);
      return h.hearth.tokens.issue(h.instance, { aud: 'access', sub: r.body.client_id, scope: 'io.cozy.notifications:POST' });
    };
    const linked = await register('registry://bank');
    const r = await post(linked, { category: 'report', title: 'From mobile' });
    expect(r.status).toBe(201);
    expect(r.body.data.attributes).toMatchObject({ originator: 'oauth', slug: 'bank', source_id: 'cozy/oauth/bank/report/' });
    const unlinked = await register('github.com/someone/tool');
    const refused = await post(unlinked, { category: 'report', title: 'x' });
    expect(refused.status).toBe(403);
    expect(refused.body.errors[0].detail).toMatch(/linked to no app/);

    const cookie = await owner();
    const mine = await post(undefined, { category: 'system', title: 'Note to self' }, { ...JSONAPI, ...cookie });
    expect(mine.status).toBe(201);
    expect(mine.body.data.attributes).toMatchObject({ originator: 'owner', source_id: 'cozy/owner//system/' });
    expect((await post(undefined, { category: 'system', title: 'x' }, { ...JSONAPI, ...cookie, origin: 'http://evil.example' })).status).toBe(403);
  });

  it('refuses: no token, no right, another instance, foreign or unknown categories, bad fields, oversized ones', async () => {
    const expectError = (r: { status: number; body: { errors?: Array<{ status: string; detail: string }> } }, status: number, re: RegExp) => {
      expect(r.status).toBe(status);
      expect(r.body.errors?.[0]).toMatchObject({ status: String(status), detail: expect.stringMatching(re) });
    };
    const ok = { category: 'system', title: 't' };
    expectError(await post(undefined, ok), 401, /log in/);
    expectError(await post(await h.cliToken('io.cozy.files'), ok), 403, /needs a POST right on io\.cozy\.notifications/);
    expectError(await post(await h.cliToken('io.cozy.notifications:GET'), ok), 403, /POST right/);
    const otherToken = await h.cliToken('io.cozy.notifications', h.other);
    expect((await post(otherToken, ok)).status).toBe(400);
    const noRight = await appAuth('other', 'io.cozy.files');
    expectError(await post(noRight.token, { category: 'secret', title: 't' }, noRight.headers), 403, /POST right/);

    const bank = await appAuth('bank', 'io.cozy.notifications:POST');
    expectError(await post(bank.token, { category: 'nope', title: 't' }, bank.headers), 403, /category does not exist: bank declares "account-balance", "report"/);
    expectError(await post(bank.token, { category: 'secret', title: 't' }, bank.headers), 403, /category does not exist/);
    expectError(await post(bank.token, { category: 'system', title: 't' }, bank.headers), 403, /category does not exist/);
    const plain = await appAuth('plain', 'io.cozy.notifications:POST');
    expectError(await post(plain.token, { category: 'report', title: 't' }, plain.headers), 403, /No category for this app: plain declares no notification category/);
    const ghost = await appAuth('ghost', 'io.cozy.notifications:POST');
    expectError(await post(ghost.token, { category: 'report', title: 't' }, ghost.headers), 404, /app ghost is not installed/);
    const cli = await h.cliToken('io.cozy.notifications:POST');
    expectError(await post(cli, { category: 'report', title: 't' }), 403, /only has the "system" category/);

    expectError(await post(cli, { category: 'system' }), 400, /"title" is required/);
    expectError(await post(cli, { category: 'system', title: '  ' }), 400, /"title" must not be empty/);
    expectError(await post(cli, { title: 't' }), 400, /"category" is required/);
    expectError(await post(cli, { ...ok, priority: 'urgent' }), 400, /"priority" must be "high" or "normal"/);
    expectError(await post(cli, { ...ok, preferred_channels: ['pigeon'] }), 400, /"preferred_channels" must be a list/);
    expectError(await post(cli, { ...ok, state: { a: 1 } }), 400, /"state" must be/);
    expectError(await post(cli, { ...ok, data: [1] }), 400, /"data" must be an object/);
    expectError(await h.req('POST', '/notifications', { token: cli, body: { category: 'system', title: 't' } }), 400, /JSON-API/);
    expectError(await post(cli, { ...ok, message: 'x'.repeat(10_001) }), 413, /"message" has 10001 characters, more than the 10000/);
    expectError(await post(cli, { ...ok, title: 'x'.repeat(501) }), 413, /"title"/);
    expectError(await post(cli, { ...ok, data: { blob: 'x'.repeat(40_000) } }), 413, /"data" weighs/);
    expect((await post(cli, { ...ok, content: 'x'.repeat(600_000) })).status).toBe(413);
    expectError(await post(cli, { ...ok, at: 'tomorrow' }), 400, /"at" must be an ISO-8601 \(RFC 3339\) date/);
    expectError(await post(cli, { ...ok, at: '2026-13-01T00:00:00Z' }), 400, /"at" must be/);
    expectError(await post(cli, { ...ok, at: 12 }), 400, /"at" must be/);
    expectError(await post(cli, { ...ok, at: new Date(Date.now() - 3 * 86_400_000).toISOString() }), 400, /more than 24 hours in the past/);
    expectError(await post(cli, { ...ok, at: new Date(Date.now() + 400 * 86_400_000).toISOString() }), 400, /more than a year ahead/);
    // the internal worker is not for apps, even with a right on it
    const jobs = await h.cliToken('io.cozy.jobs:POST:notification:worker');
    expect((await h.req('POST', '/jobs/queue/notification', { token: jobs, body: { data: { attributes: { arguments: {} } } } })).status).toBe(403);
  });
});

describe('GET /notifications', () => {
  it('lists the owner\'s notifications newest first, by pages; for the owner or a token with GET only, per instance', async () => {
    const cli = await h.cliToken('io.cozy.notifications:POST');
    const sent: string[] = [];
    for (let i = 0; i < 5; i++) sent.push((await post(cli, { category: 'system', title: `page ${i}` })).body.data.id);
    const cookie = await owner();
    const first = await h.req('GET', '/notifications?page[limit]=2', { headers: cookie });
    expect(first.status).toBe(200);
    expect(first.body.data.map((d: { attributes: { title: string } }) => d.attributes.title)).toEqual(['page 4', 'page 3']);
    expect(first.body.meta.count).toBeGreaterThanOrEqual(5);
    const seen: string[] = [];
    let next: string | undefined = '/notifications?page[limit]=2';
    while (next) {
      const page = await h.req('GET', next, { headers: cookie });
      seen.push(...page.body.data.map((d: { id: string }) => d.id));
      next = page.body.links?.next;
    }
    expect(seen.length).toBe(first.body.meta.count);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.slice(0, 5)).toEqual([...sent].reverse());
    expect([...seen].sort().reverse()).toEqual(seen);

    const reader = await h.cliToken('io.cozy.notifications:GET');
    expect((await h.req('GET', '/notifications', { token: reader })).body.data.length).toBe(Math.min(30, seen.length));
    const one = await h.req('GET', `/notifications/${sent[0]}`, { token: reader });
    expect(one.body.data).toMatchObject({ id: sent[0], attributes: { title: 'page 0' } });
    expect((await h.req('GET', '/notifications/00000000000000000000000000000000', { token: reader })).status).toBe(404);
    expect((await h.req('GET', '/notifications')).status).toBe(401);
    expect((await h.req('GET', '/notifications', { token: cli })).status).toBe(403);
    expect((await h.req('GET', `/notifications/${sent[0]}`, { token: cli })).status).toBe(403);
    expect((await h.req('GET', '/notifications', { headers: { ...cookie, origin: 'http://evil.example' } })).status).toBe(403);
    expect((await h.req('GET', '/notifications?page[limit]=zero', { token: reader })).status).toBe(400);
    // the other instance has none of them, and this instance's cookie is not valid there
    const otherReader = await h.cliToken('io.cozy.notifications:GET', h.other);
    expect((await h.req('GET', '/notifications', { token: otherReader, host: h.otherDomain })).body.data).toEqual([]);
    expect((await h.req('GET', `/notifications/${sent[0]}`, { token: otherReader, host: h.otherDomain })).status).toBe(404);
    expect((await h.req('GET', '/notifications', { headers: cookie, host: h.otherDomain })).status).toBe(401);
    // /data serves them read-only
    const data = await h.cliToken('io.cozy.notifications');
    expect((await h.req('GET', `/data/io.cozy.notifications/${sent[0]}`, { token: data })).body.title).toBe('page 0');
    expect((await h.req('POST', '/data/io.cozy.notifications/', { token: data, body: { title: 'forged' } })).status).toBe(403);
  });
});
