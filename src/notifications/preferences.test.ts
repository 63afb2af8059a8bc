/** The owner's preferences per category and channel, read and set over HTTP, and followed by deliveries. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS } from '../config/schema.js';
import { startTestHearth, type TestHearth } from '../../test/helpers/hearth.js';
import { until } from '../../test/helpers/jobs.js';
import { startTestSmtp, type TestSmtp } from '../../test/helpers/smtp.js';

let h: TestHearth;
let smtp: TestSmtp;
let dir: string;
let cookie: Record<string, string>;
const JSONAPI = { 'content-type': 'application/vnd.api+json' };
const prefs = (categories: Record<string, unknown>) => ({ data: { type: 'io.cozy.settings', id: 'io.cozy.settings.notifications', attributes: { categories } } });

beforeAll(async () => {
  smtp = await startTestSmtp();
  dir = mkdtempSync(join(tmpdir(), 'hearth-notif-prefs-'));
  mkdirSync(join(dir, 'bank'));
  writeFileSync(join(dir, 'bank', 'manifest.webapp'), JSON.stringify({ slug: 'bank', notifications: { report: { description: 'Monthly <report>' } } }));
  h = await startTestHearth({ mail: smtp.config, jobs: { ...structuredClone(DEFAULTS.jobs), appsDir: dir } });
  await h.hearth.registry.modify(h.domain, { email: 'alice@example.org' });
  cookie = { cookie: `cozysessid=${(await h.hearth.appToken(h.instance, 'settings')).session_cookie}` };
});
afterAll(async () => {
  await h.close();
  await smtp.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('notification preferences', () => {
  it('lists every known category with the defaults: system by mail, apps by mail when they ask', async () => {
    const r = await h.req('GET', '/notifications/preferences', { headers: cookie });
    expect(r.status).toBe(200);
    expect(r.body.data).toMatchObject({ type: 'io.cozy.settings', id: 'io.cozy.settings.notifications' });
    expect(r.body.data.attributes.categories).toEqual({
      system: { mail: true, in_app: true, default: { mail: true, in_app: true }, category: 'system', description: expect.any(String) },
      'bank/report': { mail: 'requested', in_app: true, default: { mail: 'requested', in_app: true }, slug: 'bank', category: 'report', description: 'Monthly <report>' },
    });
  });

  it('are followed: no mail, no in-app, or a mail for every notification of an app', async () => {
    const cli = await h.cliToken('io.cozy.notifications:POST');
    const set = await h.req('PATCH', '/notifications/preferences', { headers: { ...cookie, ...JSONAPI }, body: prefs({ system: { mail: false } }) });
    expect(set.status).toBe(200);
    expect(set.body.data.attributes.categories.system).toMatchObject({ mail: false, in_app: true });
    expect(set.body.data.meta.rev).toMatch(/^1-/);
    const before = smtp.received.length;
    const quiet = await h.req('POST', '/notifications', { token: cli, headers: JSONAPI, body: { data: { attributes: { category: 'system', title: 'no mail' } } } });
    expect(quiet.body.data.meta.channels).toEqual({ in_app: true, mail: false });

    // in-app off: not kept in the notification center (so no CREATED event), still mailed
    await h.req('PATCH', '/notifications/preferences', { headers: { ...cookie, ...JSONAPI }, body: prefs({ system: { mail: true, in_app: false } }) });
    const events: string[] = [];
    const off = h.hearth.bus.subscribe(h.domain, 'io.cozy.notifications', (e) => events.push(e.id));
    const mailOnly = await h.req('POST', '/notifications', { token: cli, headers: JSONAPI, body: { data: { attributes: { category: 'system', title: 'mail only' } } } });
    off();
    expect(mailOnly.status).toBe(201);
    expect(mailOnly.body.data.meta).toEqual({ channels: { in_app: false, mail: true } });
    expect(events).toEqual([]);
    const reader = await h.cliToken('io.cozy.notifications:GET');
    expect((await h.req('GET', `/notifications/${mailOnly.body.data.id}`, { token: reader })).status).toBe(404);
    await until(() => smtp.received.length > before);
    expect(smtp.received.map((m) => m.mail.subject)).toContain('mail only');
    expect(smtp.received.map((m) => m.mail.subject)).not.toContain('no mail');

    // an app's category by mail every time
    await h.hearth.perms.grant(h.instance, 'app', 'bank', 'io.cozy.notifications:POST');
    const app = await h.hearth.appToken(h.instance, 'bank');
    await h.req('PATCH', '/notifications/preferences', { headers: { ...cookie, ...JSONAPI }, body: prefs({ 'bank/report': { mail: true } }) });
    const report = await h.req('POST', '/notifications', { token: app.token, headers: { ...JSONAPI, cookie: `cozysessid=${app.session_cookie}` }, body: { data: { attributes: { category: 'report', title: 'March' } } } });
    expect(report.body.data.meta.channels).toEqual({ in_app: true, mail: true });

    // PUT replaces everything: back to the defaults but for what it sets; null resets one channel
    const put = await h.req('PUT', '/notifications/preferences', { headers: { ...cookie, ...JSONAPI }, body: prefs({ 'bank/report': { in_app: false, mail: null } }) });
    expect(put.body.data.attributes.categories.system).toMatchObject({ mail: true, in_app: true });
    expect(put.body.data.attributes.categories['bank/report']).toMatchObject({ mail: 'requested', in_app: false });
  });

  it('refuses unknown categories, bad values, tokens without settings rights and other origins', async () => {
    const patch = (body: unknown, headers: Record<string, string> = cookie, token?: string) =>
      h.req('PATCH', '/notifications/preferences', { headers: { ...headers, ...JSONAPI }, body, ...(token ? { token } : {}) });
    const unknown = await patch(prefs({ 'other/thing': { mail: false } }));
    expect(unknown.status).toBe(422);
    expect(unknown.body.errors[0].detail).toMatch(/no notification category "other\/thing": the known ones are "system", "bank\/report"/);
    expect((await patch(prefs({ system: { mail: 'sometimes' } }))).status).toBe(400);
    expect((await patch(prefs({ system: { in_app: 'requested' } }))).status).toBe(400);
    expect((await patch(prefs({ system: { sms: true } }))).body.errors[0].detail).toMatch(/unknown channel "sms"/);
    expect((await patch(prefs({ system: true }))).status).toBe(400);
    expect((await patch({ categories: {} })).status).toBe(400);
    expect((await patch(prefs({ system: { mail: false } }), {})).status).toBe(401);
    expect((await patch(prefs({ system: { mail: false } }), {}, await h.cliToken('io.cozy.notifications'))).status).toBe(403);
    expect((await h.req('GET', '/notifications/preferences', { token: await h.cliToken('io.cozy.notifications') })).status).toBe(403);
    expect((await patch(prefs({ system: { mail: false } }), { ...cookie, origin: 'http://evil.example' })).status).toBe(403);
    // a token with rights on io.cozy.settings may (the settings app)
    const settings = await h.cliToken('io.cozy.settings');
    const ok = await patch(prefs({ system: { mail: false } }), {}, settings);
    expect(ok.status).toBe(200);
    expect(ok.body.data.attributes.categories.system.mail).toBe(false);
    // nothing changed on the other instance
    const other = await h.req('GET', '/notifications/preferences', { host: h.otherDomain, token: await h.cliToken('io.cozy.settings', h.other) });
    expect(other.body.data.attributes.categories.system.mail).toBe(true);
  });
});
