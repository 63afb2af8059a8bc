/** /permissions on a real server: share links created, used as Bearer, narrowed, expired, revoked, listed. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT } from 'jose';
import { startTestHearth, type TestHearth } from '../../test/helpers/hearth.js';

let h: TestHearth;
let cli: string;
beforeAll(async () => {
  h = await startTestHearth();
  cli = await h.cliToken('io.cozy.contacts');
  for (const id of ['c1', 'c2']) expect((await h.req('PUT', `/data/io.cozy.contacts/${id}`, { token: cli, body: { name: id } })).status).toBeLessThan(300);
});
afterAll(() => h.close());

const body = (permissions: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ data: { type: 'io.cozy.permissions', attributes: { permissions, ...extra } } });
const oneContact = { contact: { type: 'io.cozy.contacts', verbs: ['GET'], values: ['c1'] } };

async function share(query = 'codes=bob', perms: Record<string, unknown> = oneContact, token = cli, headers: Record<string, string> = {}) {
  const res = await h.req('POST', `/permissions?${query}`, { token, headers, body: body(perms) });
  expect(res.status).toBe(201);
  return res.body.data as { id: string; attributes: { codes: Record<string, string>; shortcodes: Record<string, string>; expires_at?: string } };
}

describe('share links', () => {
  it('creates a link whose code and shortcode read the shared contact only', async () => {
    const d = await share('codes=bob,alice');
    expect(d.attributes.codes.bob).not.toBe(d.attributes.codes.alice);
    expect(d.attributes.shortcodes.bob).toMatch(/^[A-Za-z0-9]{12}$/);
    for (const token of [d.attributes.codes.bob, d.attributes.shortcodes.bob]) {
      expect((await h.req('GET', '/data/io.cozy.contacts/c1', { token })).status).toBe(200);
      expect((await h.req('GET', '/data/io.cozy.contacts/c2', { token })).status).toBe(403);
      expect((await h.req('POST', '/data/io.cozy.contacts/_find', { token, body: { selector: {} } })).status).toBe(403);
    }
  });

  it('accepts JSON-API bodies and answers JSON-API', async () => {
    const res = await h.req('POST', '/permissions?codes=x', { token: cli, raw: JSON.stringify(body(oneContact)), headers: { 'content-type': 'application/vnd.api+json' } });
    expect(res.status).toBe(201);
    expect(res.headers['content-type']).toMatch(/^application\/vnd\.api\+json/);
    expect(res.body.data).toMatchObject({ type: 'io.cozy.permissions', attributes: { type: 'share', source_id: 'io.cozy.cli' } });
    expect(res.body.data.attributes.shortcode_list).toBeUndefined();
  });

  it('refuses a link asking for more than its creator has', async () => {
    const res = await h.req('POST', '/permissions?codes=x', { token: cli, body: body({ n: { type: 'io.cozy.notes' } }) });
    expect(res.status).toBe(403);
    expect((await h.req('POST', '/permissions', { token: await h.cliToken('io.cozy.contacts:GET:c1'), body: body({ c: { type: 'io.cozy.contacts', verbs: ['GET'] } }) })).status).toBe(403);
    const d = await share();
    expect((await h.req('POST', '/permissions', { token: d.attributes.codes.bob, body: body(oneContact) })).status).toBe(403);
  });

  it('PATCH narrows the rules and removes codes, still within the caller rights', async () => {
    const d = await share('codes=bob,eve', { all: { type: 'io.cozy.contacts', verbs: ['GET'] } });
    const bob = d.attributes.codes.bob;
    expect((await h.req('GET', '/data/io.cozy.contacts/c2', { token: bob })).status).toBe(200);
    const wider = await h.req('PATCH', `/permissions/${d.id}`, { token: cli, body: body({ n: { type: 'io.cozy.notes' } }) });
    expect(wider.status).toBe(403);
    const res = await h.req('PATCH', `/permissions/${d.id}`, { token: cli, body: body({ all: '', one: oneContact.contact }, { codes: { eve: '' } }) });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body.data.attributes.codes)).toEqual(['bob']);
    expect((await h.req('GET', '/data/io.cozy.contacts/c2', { token: bob })).status).toBe(403);
    expect((await h.req('GET', '/data/io.cozy.contacts/c1', { token: bob })).status).toBe(200);
    expect((await h.req('GET', '/data/io.cozy.contacts/c1', { token: d.attributes.codes.eve })).status).toBe(400);
  });

  it('ttl sets expires_at; tinycode gives 6 digits for short links; expired links answer 400 Expired token', async () => {
    const d = await share('codes=bob&ttl=1h&tinycode=true');
    expect(d.attributes.shortcodes.bob).toMatch(/^\d{6}$/);
    const left = Date.parse(d.attributes.expires_at ?? '') - Date.now();
    expect(left).toBeGreaterThan(3500_000);
    expect(left).toBeLessThanOrEqual(3600_000);
    expect((await share('codes=bob&ttl=1D&tinycode=true')).attributes.shortcodes.bob).toMatch(/^[A-Za-z0-9]{12}$/);
    expect((await h.req('POST', '/permissions?ttl=1x', { token: cli, body: body(oneContact) })).status).toBe(400);
    const past = await h.hearth.perms.docs.create(h.instance, { sourceId: 'io.cozy.cli', permissions: oneContact, codes: ['bob'], expiresAt: new Date(Date.now() - 1000).toISOString() });
    for (const token of [(past.codes as Record<string, string>).bob, (past.shortcodes as Record<string, string>).bob]) {
      const res = await h.req('GET', '/data/io.cozy.contacts/c1', { token });
      expect(res.status).toBe(400);
      expect(res.body.reason).toBe('Expired token');
    }
  });

  it('exposes the password of a protected link as true, never its hash (see share-password.test.ts)', async () => {
    const res = await h.req('POST', '/permissions?codes=bob', { token: cli, body: body(oneContact, { password: 'secret' }) });
    expect(res.body.data.attributes.password).toBe(true);
    expect((await h.req('GET', `/permissions/${res.body.data.id}`, { token: cli })).body.data.attributes.password).toBe(true);
    const r = await h.req('GET', '/data/io.cozy.contacts/c1', { token: res.body.data.attributes.codes.bob });
    expect(r.status).toBe(401);
    expect(r.body.error).toBe('password_required');
  });

  it('DELETE revokes: the next request with the code answers 400', async () => {
    const d = await share();
    expect((await h.req('GET', '/data/io.cozy.contacts/c1', { token: d.attributes.codes.bob })).status).toBe(200);
    expect((await h.req('DELETE', `/permissions/${d.id}`, { token: cli })).status).toBe(204);
    for (const token of [d.attributes.codes.bob, d.attributes.shortcodes.bob]) {
      const res = await h.req('GET', '/data/io.cozy.contacts/c1', { token });
      expect(res.status).toBe(400);
      expect(res.body.reason).toBe('Invalid JWT token');
    }
    expect((await h.req('GET', `/permissions/${d.id}`, { token: cli })).status).toBe(404);
  });

  it('only managers read or change a doc', async () => {
    const d = await share();
    const stranger = await h.hearth.appToken(h.instance, 'stranger');
    await h.hearth.perms.grantApp(h.instance, 'stranger', 'io.cozy.contacts');
    expect((await h.req('GET', `/permissions/${d.id}`, { token: stranger.token, headers: { cookie: `cozysessid=${stranger.session_cookie}` } })).status).toBe(403);
    expect((await h.req('DELETE', `/permissions/${d.id}`, { token: d.attributes.codes.bob })).status).toBe(403);
    expect((await h.req('GET', `/permissions/${d.id}`, { token: await h.cliToken('io.cozy.permissions') })).status).toBe(200);
  });

  it('an app manages the links it created; those of others only when its rights cover the whole link (as cozy-stack)', async () => {
    await h.hearth.perms.grantApp(h.instance, 'contacts', 'io.cozy.contacts');
    const { token: app, session_cookie } = await h.hearth.appToken(h.instance, 'contacts');
    const headers = { cookie: `cozysessid=${session_cookie}` };
    const mine = await share('codes=bob', oneContact, app, headers);
    expect((await h.req('GET', `/permissions/${mine.id}`, { token: app, headers })).body.data.attributes.source_id).toBe('io.cozy.apps/contacts');
    // a link of another source that grants more than the app's rights (bills too): neither read, changed nor revoked
    const wider = await share('codes=bob', { ...oneContact, bill: { type: 'io.cozy.bills', verbs: ['GET'], values: ['b1'] } }, await h.cliToken('io.cozy.contacts io.cozy.bills'));
    expect((await h.req('PATCH', `/permissions/${wider.id}`, { token: app, headers, body: body({}, { expires_at: '' }) })).status).toBe(403);
    expect((await h.req('DELETE', `/permissions/${wider.id}`, { token: app, headers })).status).toBe(403);
    // one within its rights: it may change and revoke it, not read its codes
    const theirs = await share();
    expect((await h.req('GET', `/permissions/${theirs.id}`, { token: app, headers })).status).toBe(403);
    expect((await h.req('DELETE', `/permissions/${theirs.id}`, { token: app, headers })).status).toBe(204);
    expect((await h.req('GET', '/data/io.cozy.contacts/c1', { token: theirs.attributes.codes.bob })).status).toBe(400);
    expect((await h.req('DELETE', `/permissions/${mine.id}`, { token: app, headers })).status).toBe(204);
    // a konnector's token never manages the links of others
    await h.hearth.perms.grant(h.instance, 'konnector', 'bank', 'io.cozy.contacts');
    const k = await h.hearth.tokens.issue(h.instance, { aud: 'konn', sub: 'bank' });
    expect((await h.req('GET', '/data/io.cozy.contacts/c1', { token: k })).status).toBe(200);
    expect((await h.req('DELETE', `/permissions/${(await share()).id}`, { token: k })).status).toBe(403);
  });

  it('codes of one instance are refused by another, forged codes too', async () => {
    const d = await share();
    const opts = { host: h.otherDomain };
    expect((await h.req('GET', '/data/io.cozy.contacts/c1', { token: d.attributes.codes.bob, ...opts })).status).toBe(400);
    expect((await h.req('GET', '/data/io.cozy.contacts/c1', { token: d.attributes.shortcodes.bob, ...opts })).status).toBe(400);
    const forged = await new SignJWT({ sub: d.id }).setProtectedHeader({ alg: 'HS256' }).setAudience('share').setIssuer(h.domain).setIssuedAt().sign(new TextEncoder().encode('not-the-secret-not-the-secret!!!'));
    expect((await h.req('GET', '/data/io.cozy.contacts/c1', { token: forged })).status).toBe(400);
    expect((await h.req('GET', '/data/io.cozy.contacts/c1', { token: 'AAAAAAAAAAAA' })).status).toBe(400);
  });
});

describe('self, exists, shared-by-link', () => {
  it('GET /permissions/self for cli, app and share tokens', async () => {
    const c = await h.req('GET', '/permissions/self', { token: cli });
    expect(c.status).toBe(200);
    expect(c.body.data.attributes).toMatchObject({ type: 'cli', permissions: { rule0: { type: 'io.cozy.contacts' } } });
    await h.hearth.perms.grantApp(h.instance, 'notes', 'io.cozy.notes');
    const notes = await h.hearth.appToken(h.instance, 'notes');
    const a = await h.req('GET', '/permissions/self', { token: notes.token, headers: { cookie: `cozysessid=${notes.session_cookie}` } });
    expect(a.body.data).toMatchObject({ id: 'io.cozy.apps/notes', attributes: { type: 'app', source_id: 'io.cozy.apps/notes' } });
    const d = await share();
    const s = await h.req('GET', '/permissions/self', { token: d.attributes.shortcodes.bob });
    expect(s.body.data).toMatchObject({ id: d.id, attributes: { type: 'share', permissions: oneContact } });
    expect(s.body.data.attributes.codes).toBeUndefined();
  });

  it('POST /permissions/exists tells which verbs share links grant', async () => {
    await share('codes=x', { w: { type: 'io.cozy.contacts', verbs: ['PUT'], values: ['c2'] } });
    const res = await h.req('POST', '/permissions/exists', { token: cli, body: { data: [{ type: 'io.cozy.contacts', id: 'c1' }, { type: 'io.cozy.contacts', id: 'c2' }, { type: 'io.cozy.contacts', id: 'nope' }] } });
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual([
      { type: 'io.cozy.contacts', id: 'c1', verbs: ['GET'] },
      { type: 'io.cozy.contacts', id: 'c2', verbs: ['PUT'] },
    ]);
  });

  it('lists share links by doctype, 30 by default, paged with page[cursor]', async () => {
    const t = await h.cliToken('io.cozy.todos');
    for (let i = 0; i < 35; i++) await share('', { t: { type: 'io.cozy.todos', values: [`t${i}`] } }, t);
    const first = await h.req('GET', '/permissions/doctype/io.cozy.todos/shared-by-link', { token: t });
    expect(first.status).toBe(200);
    expect(first.body.data).toHaveLength(30);
    const second = await h.req('GET', first.body.links.next, { token: t });
    expect(second.body.data).toHaveLength(5);
    expect(second.body.links).toBeUndefined();
    const ids = new Set([...first.body.data, ...second.body.data].map((d: { id: string }) => d.id));
    expect(ids.size).toBe(35);
    const small = await h.req('GET', '/permissions/doctype/io.cozy.todos/sharedByLink?page[limit]=10', { token: t });
    expect(small.body.data).toHaveLength(10);
    expect((await h.req('GET', '/permissions/doctype/io.cozy.todos/shared-by-link?page[limit]=101', { token: t })).status).toBe(400);
    expect((await h.req('GET', '/permissions/doctype/io.cozy.todos/shared-by-link', { token: cli })).status).toBe(403);
  });
});
