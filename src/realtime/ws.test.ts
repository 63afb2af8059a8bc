/** GET /realtime/ with raw `ws`: cozy-stack's io.cozy.websocket protocol, its events and its refusals. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type TestHearth } from '../../test/helpers/hearth.js';
import { openWs, type RtClient } from '../../test/helpers/ws.js';
import { SESSION_COOKIE } from '../auth/sessions.js';

let h: TestHearth;
let contactsToken: string;

beforeAll(async () => {
  h = await startTestHearth();
  contactsToken = await h.cliToken('io.cozy.contacts io.cozy.notes');
});
afterAll(() => h.close());

const open = (opts: Parameters<typeof openWs>[2] = {}, host = h.domain) => openWs(h.port, host, opts);

async function authed(token: string, ...types: Array<string | [string, string]>): Promise<RtClient> {
  return authedOn(h.domain, token, ...types);
}

async function authedOn(host: string, token: string, ...types: Array<string | [string, string]>): Promise<RtClient> {
  const c = await open({}, host);
  c.auth(token);
  for (const t of types) {
    if (Array.isArray(t)) c.subscribe(t[0], t[1]);
    else c.subscribe(t);
  }
  await c.barrier();
  return c;
}

async function create(doctype: string, doc: Record<string, unknown>, token = contactsToken, host = h.domain): Promise<{ id: string; rev: string }> {
  const res = await h.req('POST', `/data/${doctype}/`, { token, body: doc, host });
  expect(res.status, res.text).toBe(201);
  return { id: res.body.id, rev: res.body.rev };
}

describe('the io.cozy.websocket protocol', () => {
  it('selects the subprotocol and sends CREATED, UPDATED and DELETED with {type, id, doc}', async () => {
    const c = await authed(contactsToken, 'io.cozy.contacts');
    expect(c.ws.protocol).toBe('io.cozy.websocket');
    const { id, rev } = await create('io.cozy.contacts', { fullname: 'Ada Lovelace' });
    const created = await c.next((m) => m.event === 'CREATED');
    expect(c.raw.find((r) => r.includes('"CREATED"'))).toMatch(/^\{"event":"CREATED","payload":\{"type":"io.cozy.contacts","id":"[0-9a-f]{32}","doc":\{/);
    expect(created.payload).toEqual({ type: 'io.cozy.contacts', id, doc: { _id: id, _rev: rev, fullname: 'Ada Lovelace' } });

    const put = await h.req('PUT', `/data/io.cozy.contacts/${id}`, { token: contactsToken, body: { _rev: rev, fullname: 'Ada King' } });
    expect(put.status, put.text).toBe(200);
    const updated = await c.next((m) => m.event === 'UPDATED');
    expect(updated.payload).toEqual({ type: 'io.cozy.contacts', id, doc: { _id: id, _rev: put.body.rev, fullname: 'Ada King' } });

    const del = await h.req('DELETE', `/data/io.cozy.contacts/${id}?rev=${put.body.rev}`, { token: contactsToken });
    expect(del.status, del.text).toBe(200);
    const deleted = await c.next((m) => m.event === 'DELETED');
    // as cozy-stack's DeleteDoc: the document as it was, with the tombstone's rev
    expect(deleted.payload).toEqual({ type: 'io.cozy.contacts', id, doc: { _id: id, _rev: del.body.rev, fullname: 'Ada King', _deleted: true } });
    await c.close();
  });

  it('watches one id, stops on UNSUBSCRIBE, and takes methods in any case', async () => {
    const watched = await create('io.cozy.contacts', { n: 1 });
    const c = await open();
    c.send({ method: 'auth', payload: contactsToken });
    c.send({ method: 'Subscribe', payload: { type: 'io.cozy.contacts', id: watched.id } });
    c.subscribe('io.cozy.notes');
    await c.barrier();
    await create('io.cozy.contacts', { n: 2 }); // not watched
    await h.req('PUT', `/data/io.cozy.contacts/${watched.id}`, { token: contactsToken, body: { _rev: watched.rev, n: 3 } });
    const ev = await c.next((m) => m.event !== 'error');
    expect(ev).toMatchObject({ event: 'UPDATED', payload: { id: watched.id, doc: { n: 3 } } });

    c.send({ method: 'UNSUBSCRIBE', payload: { type: 'io.cozy.contacts', id: watched.id } });
    await c.barrier();
    const cur = await h.req('GET', `/data/io.cozy.contacts/${watched.id}`, { token: contactsToken });
    await h.req('PUT', `/data/io.cozy.contacts/${watched.id}`, { token: contactsToken, body: { _rev: cur.body._rev, n: 4 } });
    const note = await create('io.cozy.notes', { title: 'sentinel' });
    // events come in order: the sentinel note is the next one, the contact's change did not come
    expect(await c.next((m) => m.event !== 'error')).toMatchObject({ event: 'CREATED', payload: { type: 'io.cozy.notes', id: note.id } });
    expect(c.messages.filter((m) => m.payload.type === 'io.cozy.contacts' && m.event === 'UPDATED')).toHaveLength(1);
    await c.close();
  });

  it('delivers one event once to a client on the doctype and on the id, and to every client', async () => {
    const { id, rev } = await create('io.cozy.contacts', { n: 1 });
    const a = await authed(contactsToken, 'io.cozy.contacts', ['io.cozy.contacts', id], 'io.cozy.notes');
    const b = await authed(contactsToken, 'io.cozy.contacts');
    await h.req('PUT', `/data/io.cozy.contacts/${id}`, { token: contactsToken, body: { _rev: rev, n: 2 } });
    const note = await create('io.cozy.notes', { title: 'sentinel' });
    await a.next((m) => m.payload.id === note.id);
    await b.next((m) => m.event === 'UPDATED' && m.payload.id === id);
    expect(a.messages.filter((m) => m.event === 'UPDATED').map((m) => m.payload.id)).toEqual([id]);
    await a.close();
    await b.close();
  });

  it('never sends an event of one instance to another instance\'s connections', async () => {
    const otherToken = await h.cliToken('io.cozy.contacts', h.other);
    const mine = await authed(contactsToken, 'io.cozy.contacts');
    const theirs = await authedOn(h.otherDomain, otherToken, 'io.cozy.contacts');
    const { id } = await create('io.cozy.contacts', { who: 'mine' });
    await mine.next((m) => m.event === 'CREATED' && m.payload.id === id);
    const sentinel = await create('io.cozy.contacts', { who: 'theirs' }, otherToken, h.otherDomain);
    const first = await theirs.next((m) => m.event !== 'error');
    expect(first.payload).toMatchObject({ id: sentinel.id, doc: { who: 'theirs' } });
    expect(theirs.messages.some((m) => m.payload?.id === id)).toBe(false);
    expect(mine.messages.some((m) => m.payload?.id === sentinel.id)).toBe(false);
    await mine.close();
    await theirs.close();
  });

  it('serves a client that asks for no subprotocol too, as cozy-stack', async () => {
    const c = await open({ protocols: [] });
    expect(c.ws.protocol).toBe('');
    c.auth(contactsToken);
    c.subscribe('io.cozy.contacts');
    await c.barrier();
    const { id } = await create('io.cozy.contacts', { plain: true });
    expect(await c.next((m) => m.event === 'CREATED')).toMatchObject({ event: 'CREATED', payload: { id } });
    await c.close();
  });

  it('counts open connections', async () => {
    const count = () => h.hearth.realtime.connectionCount();
    await expect.poll(count).toBe(0); // the earlier tests' connections are closed
    const c = await open();
    expect(count()).toBe(1);
    await c.close();
    await expect.poll(count).toBe(0);
  });
});

describe('refusals', () => {
  const authError = (source: unknown) => ({ event: 'error', payload: expect.objectContaining({ status: '401 Unauthorized', code: 'unauthorized', title: 'The authentication has failed', source }) });

  it('wants AUTH first', async () => {
    const c = await open();
    c.subscribe('io.cozy.contacts');
    expect(await c.next()).toEqual({
      event: 'error',
      payload: expect.objectContaining({ status: '405 Method Not Allowed', code: 'method not allowed', title: 'The SUBSCRIBE method is not supported', source: { method: 'SUBSCRIBE' } }),
    });
    expect((await c.closed).code).toBe(1008);
  });

  it('refuses an empty, bad, expired, forged or other instance\'s token, and closes', async () => {
    const valid = await h.cliToken('io.cozy.contacts');
    const [head, body, sig] = valid.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString()) as Record<string, unknown>;
    const forged = `${head}.${Buffer.from(JSON.stringify({ ...claims, scope: 'io.cozy.files' })).toString('base64url')}.${sig}`;
    const expired = await h.hearth.tokens.issue(h.instance, { aud: 'cli', sub: 'test', scope: 'io.cozy.contacts' }, -60);
    const otherInstance = await h.cliToken('io.cozy.contacts', h.other);
    for (const token of ['', 'not-a-token', expired, forged, otherInstance]) {
      const c = await open();
      c.auth(token);
      expect(await c.next(), token).toEqual(authError({ method: 'AUTH', payload: token }));
      expect((await c.closed).code).toBe(1008);
    }
  });

  it('binds an app token to its session cookie, as everywhere', async () => {
    await h.hearth.perms.grantApp(h.instance, 'contacts-app', 'io.cozy.contacts:GET');
    const { token, session_cookie } = await h.hearth.appToken(h.instance, 'contacts-app');
    const without = await open();
    without.auth(token);
    expect((await without.next()).payload.status).toBe('401 Unauthorized');
    const withCookie = await open({ headers: { cookie: `${SESSION_COOKIE}=${session_cookie}` } });
    withCookie.auth(token);
    withCookie.subscribe('io.cozy.contacts');
    withCookie.subscribe('io.cozy.notes');
    const forbidden = await withCookie.next();
    expect(forbidden.payload).toMatchObject({ status: '403 Forbidden', source: { method: 'SUBSCRIBE', payload: { type: 'io.cozy.notes', id: '' } } });
    const { id } = await create('io.cozy.contacts', { app: true });
    expect(await withCookie.next()).toMatchObject({ event: 'CREATED', payload: { id } });
    await withCookie.close();
  });

  it('refuses a subscription without the GET right, and keeps the connection', async () => {
    const token = await h.cliToken('io.cozy.contacts:POST io.cozy.notes:GET:some-note');
    const c = await open();
    c.auth(token);
    c.subscribe('io.cozy.contacts');
    c.subscribe('io.cozy.notes');
    c.subscribe('io.cozy.notes', 'some-note');
    expect(await c.next()).toEqual({
      event: 'error',
      payload: {
        status: '403 Forbidden', code: 'forbidden', title: "The application can't subscribe to io.cozy.contacts",
        detail: expect.stringContaining('GET right'), source: { method: 'SUBSCRIBE', payload: { type: 'io.cozy.contacts', id: '' } },
      },
    });
    expect((await c.next()).payload.title).toBe("The application can't subscribe to io.cozy.notes");
    await c.barrier(); // the id was accepted: no third error
    expect(c.messages.filter((m) => m.payload.status === '403 Forbidden')).toHaveLength(2);
    expect(c.ws.readyState).toBe(c.ws.OPEN);
    await c.close();
  });

  it('answers an unknown command and a missing type, and keeps the connection', async () => {
    const c = await authed(contactsToken);
    c.send({ method: 'PUBLISH', payload: { type: 'io.cozy.contacts' } });
    expect((await c.next()).payload).toMatchObject({ status: '405 Method Not Allowed', title: 'The PUBLISH method is not supported' });
    c.send({ method: 'SUBSCRIBE', payload: {} });
    expect((await c.next()).payload).toMatchObject({ status: '404 Page Not Found', code: 'page not found', title: 'The type parameter is mandatory for SUBSCRIBE' });
    c.subscribe('io.cozy.contacts');
    await c.barrier();
    const { id } = await create('io.cozy.contacts', { still: 'open' });
    expect(await c.next((m) => m.event === 'CREATED')).toMatchObject({ event: 'CREATED', payload: { id } });
    await c.close();
  });

  it('closes on a message that is not a command', async () => {
    const c = await authed(contactsToken);
    c.send('{"method": "SUBSCRIBE", "payload": "io.cozy.contacts"}');
    expect((await c.next()).payload).toMatchObject({ status: '400 Bad Request', title: 'The message is not a command' });
    expect((await c.closed).code).toBe(1007);
  });

  it('closes with 1009 on a message over 1 KiB, before or after AUTH', async () => {
    const fine = await authed(contactsToken);
    fine.send({ method: 'SUBSCRIBE', payload: { type: 'io.cozy.contacts', id: 'x'.repeat(900) } });
    await fine.barrier();
    fine.send({ method: 'SUBSCRIBE', payload: { type: 'io.cozy.contacts', id: 'x'.repeat(1024) } });
    expect((await fine.closed).code).toBe(1009);
    const early = await open();
    early.send({ method: 'AUTH', payload: 'x'.repeat(2000) });
    expect((await early.closed).code).toBe(1009);
  });

  it('answers plain HTTP with 400, and an unknown host with 404 before any upgrade', async () => {
    const res = await h.req('GET', '/realtime/');
    expect(res.status).toBe(400);
    expect(res.body.errors[0].detail).toMatch(/WebSocket/);
    await expect(open({}, 'nowhere.example:1')).rejects.toMatchObject({ status: 404 });
  });
});
