/** GET /realtime/sse: one Server-Sent Events stream for many subscriptions, and its refusals. */
import { request, type IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type TestHearth } from '../../test/helpers/hearth.js';

let h: TestHearth;
let token: string;

beforeAll(async () => {
  h = await startTestHearth();
  token = await h.cliToken('io.cozy.contacts io.cozy.notes');
});
afterAll(() => h.close());

interface Stream {
  res: IncomingMessage;
  /** Everything received so far. */
  text(): string;
  /** The parsed `data:` records so far. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  events(): any[];
  waitFor(predicate: (text: string) => boolean): Promise<void>;
  close(): void;
}

function openSse(query: string, opts: { token?: string; host?: string } = {}): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { host: opts.host ?? h.domain, accept: 'text/event-stream' };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    const req = request({ host: '127.0.0.1', port: h.port, path: `/realtime/sse${query}`, headers, agent: false }, (res) => {
      let text = '';
      const waiters = new Set<() => void>();
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
        waiters.forEach((w) => w());
      });
      resolve({
        res,
        text: () => text,
        events: () => text.split('\n\n').filter((r) => r.startsWith('data: ')).map((r) => JSON.parse(r.slice(6)) as unknown),
        waitFor: (predicate) => new Promise<void>((ok, ko) => {
          const timer = setTimeout(() => ko(new Error(`not received within 10 s; got: ${text.slice(0, 2000)}`)), 10_000);
          const check = () => {
            if (!predicate(text)) return;
            clearTimeout(timer);
            waiters.delete(check);
            ok();
          };
          waiters.add(check);
          check();
        }),
        close: () => req.destroy(),
      });
    });
    req.on('error', reject);
    req.end();
  });
}

async function body(s: Stream): Promise<unknown> {
  if (!s.res.complete) await new Promise((ok) => s.res.once('end', ok));
  return JSON.parse(s.text());
}

const create = async (doctype: string, doc: Record<string, unknown>, t = token, host = h.domain) => {
  const res = await h.req('POST', `/data/${doctype}/`, { token: t, body: doc, host });
  expect(res.status, res.text).toBe(201);
  return res.body as { id: string; rev: string };
};

describe('GET /realtime/sse', () => {
  it('streams many subscriptions in one response, each event the WebSocket message', async () => {
    const note = await create('io.cozy.notes', { title: 'watched' });
    const s = await openSse(`?types=io.cozy.contacts,io.cozy.notes/${note.id}`, { token });
    expect(s.res.statusCode).toBe(200);
    expect(s.res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(s.res.headers['x-accel-buffering']).toBe('no');
    expect(s.res.headers['cache-control']).toBe('no-cache, no-transform');
    const contact = await create('io.cozy.contacts', { fullname: 'Grace Hopper' });
    await create('io.cozy.notes', { title: 'not watched' });
    await h.req('PUT', `/data/io.cozy.notes/${note.id}`, { token, body: { _rev: note.rev, title: 'changed' } });
    await s.waitFor((t) => t.includes('"UPDATED"'));
    expect(s.text()).toMatch(/^: subscribed\n\ndata: \{"event":"CREATED","payload":\{"type":"io.cozy.contacts"/);
    expect(s.events()).toEqual([
      { event: 'CREATED', payload: { type: 'io.cozy.contacts', id: contact.id, doc: { _id: contact.id, _rev: contact.rev, fullname: 'Grace Hopper' } } },
      { event: 'UPDATED', payload: { type: 'io.cozy.notes', id: note.id, doc: expect.objectContaining({ title: 'changed' }) } },
    ]);
    s.close();
  });

  it('takes repeated types= too, sends NOTIFIED, and keeps instances apart', async () => {
    const otherToken = await h.cliToken('io.cozy.contacts', h.other);
    const mine = await openSse('?types=io.cozy.contacts&types=io.cozy.jobs', { token: await h.cliToken('io.cozy.contacts io.cozy.jobs') });
    // EventSource cannot set headers: the token may come as ?bearer_token=, as on every route
    const theirs = await openSse(`?types=io.cozy.contacts&bearer_token=${otherToken}`, { host: h.otherDomain });
    const res = await h.req('POST', '/realtime/io.cozy.jobs/j1', { token: await h.cliToken('io.cozy.jobs:POST'), body: { step: 1 } });
    expect(res.status).toBe(204);
    const c = await create('io.cozy.contacts', { who: 'mine' });
    const theirContact = await create('io.cozy.contacts', { who: 'theirs' }, otherToken, h.otherDomain);
    await mine.waitFor((t) => t.includes(c.id));
    await theirs.waitFor((t) => t.includes(theirContact.id));
    // (io.cozy.jobs events of jobs the stack may run meanwhile are not this test's business)
    expect(mine.events().filter((e) => e.payload.type === 'io.cozy.contacts' || e.event === 'NOTIFIED').map((e) => [e.event, e.payload.id])).toEqual([['NOTIFIED', 'j1'], ['CREATED', c.id]]);
    expect(theirs.events().map((e) => e.payload.id)).toEqual([theirContact.id]);
    mine.close();
    theirs.close();
  });

  it('counts its streams as connections and forgets them when the client goes', async () => {
    const count = () => h.hearth.realtime.connectionCount();
    await expect.poll(count).toBe(0);
    const s = await openSse('?types=io.cozy.contacts', { token });
    expect(count()).toBe(1);
    expect(h.hearth.realtime.listeners(h.domain, 'io.cozy.contacts')).toBe(1);
    s.close();
    await expect.poll(count).toBe(0);
    expect(h.hearth.realtime.listeners(h.domain, 'io.cozy.contacts')).toBe(0);
  });

  it('refuses no token (401), a bad one (400), no or bad types (400), a type without rights (403)', async () => {
    const none = await openSse('?types=io.cozy.contacts');
    expect(none.res.statusCode).toBe(401);
    expect((await openSse('?types=io.cozy.contacts', { token: 'garbage' })).res.statusCode).toBe(400);
    const other = await openSse('?types=io.cozy.contacts', { token: await h.cliToken('io.cozy.contacts', h.other) });
    expect(other.res.statusCode).toBe(400);
    const noTypes = await openSse('', { token });
    expect(noTypes.res.statusCode).toBe(400);
    expect(await body(noTypes)).toMatchObject({ errors: [{ detail: expect.stringContaining('?types=') }] });
    expect((await openSse('?types=Not+A+Doctype', { token })).res.statusCode).toBe(400);
    const tooMany = Array.from({ length: 1001 }, (_, i) => `a/${i}`).join(',');
    expect((await openSse(`?types=${tooMany}`, { token })).res.statusCode).toBe(400);
    const forbidden = await openSse('?types=io.cozy.contacts,io.cozy.files', { token });
    expect(forbidden.res.statusCode).toBe(403);
    expect(await body(forbidden)).toMatchObject({ errors: [{ detail: expect.stringContaining('io.cozy.files') }] });
    expect(h.hearth.realtime.connectionCount()).toBe(0);
  });
});
