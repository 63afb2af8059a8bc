/** The wired server: events on the bus, app and konnector tokens, CORS, destroying an instance. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { DocEvent } from '../common/bus.js';
import { startTestHearth, type TestHearth } from '../../test/helpers/hearth.js';

let h: TestHearth;
beforeAll(async () => {
  h = await startTestHearth();
});
afterAll(() => h.close());

describe('composition', () => {
  it('publishes CREATED, UPDATED and DELETED after each durable write', async () => {
    const token = await h.cliToken('io.cozy.events');
    const events: DocEvent[] = [];
    const off = h.hearth.bus.subscribe(h.domain, 'io.cozy.events', (e) => events.push(e));
    const c = await h.req('PUT', '/data/io.cozy.events/e1', { token, body: { v: 1 } });
    const u = await h.req('PUT', '/data/io.cozy.events/e1', { token, body: { _id: 'e1', _rev: c.body.rev, v: 2 } });
    await h.req('DELETE', `/data/io.cozy.events/e1?rev=${u.body.rev}`, { token });
    off();
    expect(events.map((e) => [e.verb, e.id, e.doctype, e.domain])).toEqual([
      ['CREATED', 'e1', 'io.cozy.events', h.domain],
      ['UPDATED', 'e1', 'io.cozy.events', h.domain],
      ['DELETED', 'e1', 'io.cozy.events', h.domain],
    ]);
    expect(events[1]?.doc).toMatchObject({ _id: 'e1', _rev: u.body.rev, v: 2 });
  });

  it('accepts app tokens with the rights recorded for the app, and nothing more', async () => {
    await h.hearth.perms.grantApp(h.instance, 'notes', 'io.cozy.notes');
    const { token, session_cookie } = await h.hearth.appToken(h.instance, 'notes');
    const headers = { cookie: `cozysessid=${session_cookie}` };
    expect((await h.req('POST', '/data/io.cozy.notes/', { token, headers, body: { t: 'x' } })).status).toBe(201);
    expect((await h.req('GET', '/data/io.cozy.contacts/_all_docs', { token, headers })).status).toBe(403);
    const unknownApp = await h.hearth.appToken(h.instance, 'nope');
    expect((await h.req('GET', '/data/io.cozy.notes/_all_docs', { token: unknownApp.token, headers: { cookie: `cozysessid=${unknownApp.session_cookie}` } })).status).toBe(400);
    const refresh = await h.hearth.tokens.issue(h.instance, { aud: 'refresh', sub: 'client', scope: 'io.cozy.notes' });
    expect((await h.req('GET', '/data/io.cozy.notes/_all_docs', { token: refresh })).status).toBe(400);
  });

  it('accepts konnector tokens (no session needed) with the konnector rights, wildcard doctypes included, on its instance only', async () => {
    await h.hearth.perms.grant(h.instance, 'konnector', 'bank-x', 'io.cozy.bank.* io.cozy.files:GET');
    const token = await h.hearth.tokens.issue(h.instance, { aud: 'konn', sub: 'bank-x' });
    expect((await h.req('POST', '/data/io.cozy.bank.accounts/', { token, body: { label: 'x' } })).status).toBe(201);
    expect((await h.req('GET', '/data/io.cozy.bank.operations/_all_docs', { token })).status).toBe(200);
    expect((await h.req('POST', '/data/io.cozy.bankish/', { token, body: {} })).status).toBe(403);
    expect((await h.req('GET', '/data/io.cozy.contacts/_all_docs', { token })).status).toBe(403);
    const self = await h.req('GET', '/permissions/self', { token });
    expect(self.body.data).toMatchObject({ id: 'io.cozy.konnectors/bank-x', attributes: { type: 'konnector' } });
    // a konnector whose rights were never recorded, and the same token on another instance
    const unknown = await h.hearth.tokens.issue(h.instance, { aud: 'konn', sub: 'nope' });
    expect((await h.req('GET', '/data/io.cozy.bank.accounts/_all_docs', { token: unknown })).status).toBe(400);
    expect((await h.req('GET', '/data/io.cozy.bank.accounts/_all_docs', { token, host: h.otherDomain })).body.reason).toBe('Invalid JWT token');
  });

  it('answers CORS preflights for browser PouchDB', async () => {
    const res = await h.req('OPTIONS', '/data/io.cozy.notes/_changes', {
      headers: { origin: 'http://app.example.org', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
    });
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe('http://app.example.org');
    expect(res.headers['access-control-allow-credentials']).toBe('true');
  });

  it('removes the data of a destroyed instance', async () => {
    const extra = await h.hearth.registry.create({ domain: 'gone.example.org' });
    const store = h.hearth.storeOf(extra);
    await store.put('io.cozy.notes', { _id: 'n', t: 1 });
    const dir = join(h.dataDir, 'instances', extra.id);
    expect(existsSync(join(dir, 'docs.sqlite'))).toBe(true);
    await h.hearth.registry.destroy('gone.example.org');
    expect(existsSync(dir)).toBe(false);
    expect(await h.hearth.registry.get('gone.example.org')).toBeNull();
  });
});
