/** GET/PUT /settings/instance, capabilities, context and flags on a real server: revisions, validation, rights. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type TestHearth } from '../../test/helpers/hearth.js';
import CozyStackClientModule from 'cozy-stack-client';
import type { DocEvent } from '../common/bus.js';

let h: TestHearth;
let settings = '';
let cookie = '';
beforeAll(async () => {
  h = await startTestHearth({ settings: { defaultRedirection: 'home/', onboardedRedirection: 'home/#/intro', helpLink: 'https://help.example.org/', tosLink: null, flags: '{"has_feature1":true,"number_of_foos":10}' } });
  settings = await h.cliToken('io.cozy.settings');
  await h.hearth.perms.grantApp(h.instance, 'settings', 'io.cozy.settings');
  cookie = `cozysessid=${(await h.hearth.appToken(h.instance, 'settings')).session_cookie}`;
});
afterAll(() => h.close());

const get = (token = settings) => h.req('GET', '/settings/instance', { token });
const put = (rev: string, attributes: Record<string, unknown>, token = settings, extra: Record<string, unknown> = {}) =>
  h.req('PUT', '/settings/instance', { token, body: { data: { type: 'io.cozy.settings', id: 'io.cozy.settings.instance', meta: { rev }, attributes, ...extra } }, headers: { 'content-type': 'application/vnd.api+json' } });

describe('GET /settings/instance', () => {
  it('answers the JSON-API document with its revision and the instance fields', async () => {
    const res = await get();
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toContain('application/vnd.api+json');
    expect(res.body.data).toMatchObject({
      type: 'io.cozy.settings', id: 'io.cozy.settings.instance', meta: { rev: expect.stringMatching(/^1-[0-9a-f]{32}$/) },
      attributes: { locale: 'en', email: null, public_name: null, tz: null, default_redirection: 'home/', password_defined: true, auth_mode: 'basic' },
      links: { self: '/settings/instance' },
    });
  });

  it('is refused without a token or session (401), with another instance\'s token (400), and to a token without the right (403)', async () => {
    expect((await h.req('GET', '/settings/instance')).status).toBe(401);
    const other = await h.req('GET', '/settings/instance', { token: await h.cliToken('io.cozy.settings', h.other) });
    expect(other.status).toBe(400);
    expect(other.body.errors[0].detail).toBe('Invalid JWT token');
    const files = await get(await h.cliToken('io.cozy.files'));
    expect(files.status).toBe(403);
    expect(files.body.errors[0].detail).toContain('io.cozy.settings');
    expect((await get(await h.cliToken('io.cozy.settings:GET:io.cozy.settings.disk-usage'))).status).toBe(403);
    expect((await get(await h.cliToken('io.cozy.settings:GET:io.cozy.settings.instance'))).status).toBe(200);
  });

  it('is open to the owner\'s session from the instance\'s pages, never from another origin', async () => {
    expect((await h.req('GET', '/settings/instance', { headers: { cookie } })).status).toBe(200);
    expect((await h.req('GET', '/settings/instance', { headers: { cookie, origin: `http://evil.localhost:${h.port}` } })).status).toBe(403);
  });
});

describe('PUT /settings/instance', () => {
  it('updates the fields, gives a new revision, keeps them across a restart and publishes the change', async () => {
    const before = (await get()).body.data.meta.rev as string;
    const events: DocEvent[] = [];
    const off = h.hearth.bus.subscribe(h.domain, 'io.cozy.settings', (e) => events.push(e));
    const res = await put(before, { locale: 'fr', public_name: '  Alice Martin ', timezone: 'Europe/Berlin', default_redirection: 'drive/#/folder', password_defined: false, auth_mode: 'two_factor_mail' });
    off();
    expect(res.status).toBe(200);
    const data = res.body.data;
    expect(data.meta.rev).toMatch(/^2-[0-9a-f]{32}$/);
    expect(data.attributes).toMatchObject({ locale: 'fr', public_name: 'Alice Martin', tz: 'Europe/Berlin', default_redirection: 'drive/#/folder', password_defined: true, auth_mode: 'basic' });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ verb: 'UPDATED', id: 'io.cozy.settings.instance', doc: { _rev: data.meta.rev, locale: 'fr' } });
    await h.restart();
    const again = await get();
    expect(again.body.data.meta.rev).toBe(data.meta.rev);
    expect(again.body.data.attributes).toMatchObject({ locale: 'fr', public_name: 'Alice Martin', tz: 'Europe/Berlin' });
    expect((await h.hearth.registry.get(h.domain))?.locale).toBe('fr');
    expect((await h.req('GET', '/settings/context', { token: settings })).body.data.attributes.default_redirection).toBe('drive/#/folder');
  });

  it('refuses a stale revision (409), and of two concurrent writes from the same revision exactly one wins', async () => {
    const rev = (await get()).body.data.meta.rev as string;
    const [a, b] = await Promise.all([put(rev, { public_name: 'First' }), put(rev, { public_name: 'Second' })]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    const winner = a.status === 200 ? 'First' : 'Second';
    const now = (await get()).body.data;
    expect(now.attributes.public_name).toBe(winner);
    expect(now.meta.rev).toBe((a.status === 200 ? a : b).body.data.meta.rev);
    // more rounds, three writers each: always exactly one wins, and what is stored is the winner's
    for (let round = 0; round < 5; round++) {
      const from = (await get()).body.data.meta.rev as string;
      const res = await Promise.all(['x', 'y', 'z'].map((n) => put(from, { public_name: `${n}${round}` })));
      const won = res.filter((r) => r.status === 200);
      expect(won).toHaveLength(1);
      expect(res.filter((r) => r.status === 409)).toHaveLength(2);
      expect((await get()).body.data.attributes.public_name).toBe(won[0]!.body.data.attributes.public_name);
    }
    const latest = (await get()).body.data.attributes.public_name as string;
    const stale = await put(rev, { public_name: 'Late' });
    expect(stale.status).toBe(409);
    expect(stale.body.errors[0].detail).toContain('GET /settings/instance again');
    expect((await put('', { public_name: 'No rev' })).status).toBe(409);
    expect((await get()).body.data.attributes.public_name).toBe(latest);
  });

  it('gets a new revision when the CLI changes a field, so a client holding the old one cannot overwrite it', async () => {
    const rev = (await get()).body.data.meta.rev as string;
    await h.hearth.registry.modify(h.domain, { publicName: 'Set by the CLI' });
    expect((await put(rev, { public_name: 'From an old read' })).status).toBe(409);
    expect((await get()).body.data.attributes.public_name).toBe('Set by the CLI');
  });

  it('validates every field: locale, email, tz, default_redirection, public_name, and the document itself', async () => {
    const rev = (await get()).body.data.meta.rev as string;
    const bad: Array<[Record<string, unknown>, string]> = [
      [{ locale: 'klingon' }, 'locale'], [{ locale: 42 }, 'locale'],
      [{ email: 'not an address' }, 'email'], [{ email: 'a@b' }, 'email'], [{ email: 'a@@example.org' }, 'email'],
      [{ tz: 'Mars/Olympus' }, 'tz'], [{ tz: '+02:00' }, 'tz'], [{ timezone: 'Europe/Paris; DROP' }, 'tz'],
      [{ default_redirection: 'https://evil.example/' }, 'default_redirection'], [{ default_redirection: 'drive' }, 'default_redirection'],
      [{ default_redirection: 'drive/<script>' }, 'default_redirection'], [{ public_name: 'a\nb' }, 'public_name'], [{ public_name: 'x'.repeat(201) }, 'public_name'],
    ];
    for (const [attributes, field] of bad) {
      const res = await put(rev, attributes);
      expect(res.status, JSON.stringify(attributes)).toBe(400);
      expect(res.body.errors[0].detail).toContain(`"${field}"`);
    }
    expect((await put(rev, {}, settings, { id: 'io.cozy.settings.other' })).status).toBe(400);
    expect((await h.req('PUT', '/settings/instance', { token: settings, body: { locale: 'fr' } })).status).toBe(400);
    // nothing was applied: the revision is the same
    expect((await get()).body.data.meta.rev).toBe(rev);
    const ok = await put(rev, { locale: 'pt-br', tz: 'asia/tokyo' });
    expect(ok.body.data.attributes).toMatchObject({ locale: 'pt_BR', tz: 'Asia/Tokyo' });
  });

  it('changes the email only with a CLI token; a token with only GET, another instance\'s or no token is refused', async () => {
    let rev = (await get()).body.data.meta.rev as string;
    const set = await put(rev, { email: 'alice@example.org' });
    expect(set.status).toBe(200);
    rev = set.body.data.meta.rev;
    await h.hearth.perms.grantApp(h.instance, 'settings', 'io.cozy.settings');
    const app = await h.hearth.appToken(h.instance, 'settings');
    const headers = { cookie: `cozysessid=${app.session_cookie}`, 'content-type': 'application/vnd.api+json' };
    const body = (attributes: Record<string, unknown>) => ({ data: { meta: { rev }, attributes } });
    const byApp = await h.req('PUT', '/settings/instance', { token: app.token, headers, body: body({ email: 'mallory@example.org' }) });
    expect(byApp.status).toBe(403);
    expect(byApp.body.errors[0].detail).toContain('POST /settings/email');
    const same = await h.req('PUT', '/settings/instance', { token: app.token, headers, body: body({ email: 'alice@example.org', locale: 'en' }) });
    expect(same.status).toBe(200);
    rev = same.body.data.meta.rev;
    expect((await put(rev, { locale: 'fr' }, await h.cliToken('io.cozy.settings:GET'))).status).toBe(403);
    expect((await put(rev, { locale: 'fr' }, await h.cliToken('io.cozy.settings', h.other))).status).toBe(400);
    expect((await h.req('PUT', '/settings/instance', { body: body({ locale: 'fr' }) })).status).toBe(401);
    expect((await h.hearth.registry.get(h.domain))?.email).toBe('alice@example.org');
  });
});

describe('capabilities, context and flags', () => {
  it('answer cozy-stack\'s documents to any valid token of the instance', async () => {
    const share = await h.cliToken('io.cozy.files:GET');
    const caps = await h.req('GET', '/settings/capabilities', { token: share });
    expect(caps.status).toBe(200);
    expect(caps.body.data).toEqual({
      type: 'io.cozy.settings', id: 'io.cozy.settings.capabilities', links: { self: '/settings/capabilities' },
      attributes: { file_versioning: true, flat_subdomains: false, can_auth_with_password: true, can_auth_with_magic_links: false, can_auth_with_oidc: false },
    });
    const ctx = await h.req('GET', '/settings/context', { token: share });
    expect(ctx.body.data).toMatchObject({ id: 'io.cozy.settings.context', attributes: { onboarded_redirection: 'home/#/intro', help_link: 'https://help.example.org/' } });
    const flags = await h.req('GET', '/settings/flags', { token: share });
    expect(flags.body.data).toEqual({ type: 'io.cozy.settings', id: 'io.cozy.settings.flags', attributes: { has_feature1: true, number_of_foos: 10 }, links: { self: '/settings/flags' } });
    const sources = await h.req('GET', '/settings/flags?include=source', { token: share });
    expect(sources.body.included.map((s: { id: string }) => s.id)).toEqual(['instance', 'manager', 'config', 'context', 'default'].map((s) => `io.cozy.settings.flags.${s}`));
    expect(sources.body.included[2].attributes).toEqual({ has_feature1: true, number_of_foos: 10 });
  });

  it('are refused without a token (401) and with another instance\'s token (400)', async () => {
    for (const path of ['/settings/capabilities', '/settings/context', '/settings/flags']) {
      expect((await h.req('GET', path)).status).toBe(401);
      expect((await h.req('GET', path, { token: await h.cliToken('io.cozy.files', h.other) })).status).toBe(400);
    }
  });
});

describe('cozy-stack-client', () => {
  it('reads and updates the settings through its SettingsCollection, and sees a conflict as cozy-stack\'s', async () => {
    // cozy-stack-client ships no types (src/types/modules.d.ts)
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const CozyStackClient: any = (CozyStackClientModule as any).default ?? CozyStackClientModule;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const col: any = new CozyStackClient({ uri: h.url, token: settings }).collection('io.cozy.settings');
    const { data } = await col.get('io.cozy.settings.instance');
    expect(data).toMatchObject({ _id: 'io.cozy.settings.instance', _type: 'io.cozy.settings', locale: 'en', meta: { rev: expect.any(String) } });
    const updated = await col.update({ ...data, attributes: { ...data.attributes, public_name: 'Via cozy-stack-client' } });
    expect(updated.data).toMatchObject({ public_name: 'Via cozy-stack-client', meta: { rev: expect.stringMatching(/^\d+-/) } });
    expect(updated.data.meta.rev).not.toBe(data.meta.rev);
    await expect(col.update({ ...data, attributes: { ...data.attributes, public_name: 'Stale' } })).rejects.toMatchObject({ status: 409 });
    const caps = await col.get('io.cozy.settings.capabilities');
    expect(caps.data).toMatchObject({ _id: 'io.cozy.settings.capabilities', file_versioning: true });
  });
});
