/**
 * The `cozy-realtime` npm client (what cozy apps use) against GET /realtime/, in Node over `ws`. It
 * wants a cozy-client; cozy-client's Node build needs cozy-logger, which is not installed, so it gets
 * the compatible object it reads: getStackClient() (a real cozy-stack-client: uri, getAccessToken,
 * fetchJSON) and on/removeListener. Sockets come from `ws` (its createWebSocket option, and the WebSocket global
 * it reads for WebSocket.OPEN).
 */
import { EventEmitter } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import CozyRealtimeModule from 'cozy-realtime';
import CozyStackClientModule from 'cozy-stack-client';
import { startTestHearth, type TestHearth } from '../../test/helpers/hearth.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
const CozyRealtime: any = (CozyRealtimeModule as any).default ?? CozyRealtimeModule;
const CozyStackClient: any = (CozyStackClientModule as any).default ?? CozyStackClientModule;
type Doc = Record<string, any>;

// cozy-realtime reads the WebSocket global (WebSocket.OPEN) as in a browser; Node 20 has none
(globalThis as any).WebSocket ??= WebSocket;

const quiet = { info() {}, debug() {}, warn() {}, error() {}, log() {} };
let h: TestHearth;

beforeAll(async () => {
  h = await startTestHearth();
});
afterAll(() => h.close());

class CompatClient extends EventEmitter {
  constructor(private readonly stack: unknown) {
    super();
  }
  getStackClient(): unknown {
    return this.stack;
  }
}

function realtimeFor(token: string, uri = h.url): any {
  const client = new CompatClient(new CozyStackClient({ uri, token }));
  return new CozyRealtime({ client, logger: quiet, createWebSocket: (url: string, protocol: string) => new WebSocket(url, protocol) });
}

/** Resolves with the first `n` documents a handler gets. */
function collect(n: number): { handler: (doc: Doc) => void; docs: Promise<Doc[]> } {
  const got: Doc[] = [];
  let done: (docs: Doc[]) => void = () => {};
  const docs = new Promise<Doc[]>((resolve) => (done = resolve));
  return { handler: (doc) => got.push(doc) === n && done(got), docs };
}

describe('cozy-realtime', () => {
  it('gets created, updated and deleted documents, by doctype and by id', async () => {
    const token = await h.cliToken('io.cozy.contacts');
    const rt = realtimeFor(token);
    const created = collect(1);
    rt.subscribe('created', 'io.cozy.contacts', created.handler);
    await expect.poll(() => h.hearth.realtime.listeners(h.domain, 'io.cozy.contacts')).toBe(1);

    const res = await h.req('POST', '/data/io.cozy.contacts/', { token, body: { fullname: 'Hedy Lamarr' } });
    const [doc] = await created.docs;
    expect(doc).toEqual({ _id: res.body.id, _rev: res.body.rev, fullname: 'Hedy Lamarr', _type: 'io.cozy.contacts' });

    const updated = collect(1);
    const deleted = collect(1);
    rt.subscribe('updated', 'io.cozy.contacts', res.body.id, updated.handler);
    rt.subscribe('deleted', 'io.cozy.contacts', res.body.id, deleted.handler);
    // the id subscription goes on the same socket; a write after it is seen shows it is active
    await expect.poll(async () => {
      const cur = await h.req('GET', `/data/io.cozy.contacts/${res.body.id}`, { token });
      await h.req('PUT', `/data/io.cozy.contacts/${res.body.id}`, { token, body: { ...cur.body, fullname: 'Hedy Kiesler' } });
      return Promise.race([updated.docs.then(() => true), new Promise((r) => setTimeout(() => r(false), 100))]);
    }).toBe(true);
    expect((await updated.docs)[0]).toMatchObject({ _id: res.body.id, fullname: 'Hedy Kiesler', _type: 'io.cozy.contacts' });

    const cur = await h.req('GET', `/data/io.cozy.contacts/${res.body.id}`, { token });
    await h.req('DELETE', `/data/io.cozy.contacts/${res.body.id}?rev=${cur.body._rev}`, { token });
    expect((await deleted.docs)[0]).toMatchObject({ _id: res.body.id, _deleted: true, fullname: 'Hedy Kiesler' });
    rt.stop();
    await expect.poll(() => h.hearth.realtime.listeners(h.domain, 'io.cozy.contacts')).toBe(0);
  });

  it('sends a notification with sendNotification and receives it as NOTIFIED', async () => {
    const token = await h.cliToken('io.cozy.jobs');
    const rt = realtimeFor(token);
    const notified = collect(1);
    rt.subscribe('notified', 'io.cozy.jobs', 'job-1', notified.handler);
    await expect.poll(() => h.hearth.realtime.listeners(h.domain, 'io.cozy.jobs')).toBe(1);
    await rt.sendNotification('io.cozy.jobs', 'job-1', { subtype: 'progress', imported: 1, total: 2 });
    // cozy-realtime posts {data: <its argument>}, and the stack sends that body as the doc
    expect((await notified.docs)[0]).toEqual({ _id: 'job-1', data: { subtype: 'progress', imported: 1, total: 2 }, _type: 'io.cozy.jobs' });
    rt.stop();
  });

  it('gets nothing it has no right to, and nothing of another instance', async () => {
    const token = await h.cliToken('io.cozy.notes');
    const rt = realtimeFor(token);
    const contacts: Doc[] = [];
    rt.subscribe('created', 'io.cozy.contacts', (doc: Doc) => contacts.push(doc)); // refused by the stack (403)
    const notes = collect(1);
    rt.subscribe('created', 'io.cozy.notes', notes.handler);
    await expect.poll(() => h.hearth.realtime.listeners(h.domain, 'io.cozy.notes')).toBe(1);
    expect(h.hearth.realtime.listeners(h.domain, 'io.cozy.contacts')).toBe(0);
    const contactsToken = await h.cliToken('io.cozy.contacts');
    await h.req('POST', '/data/io.cozy.contacts/', { token: contactsToken, body: { nope: true } });
    const otherToken = await h.cliToken('io.cozy.notes', h.other);
    await h.req('POST', '/data/io.cozy.notes/', { token: otherToken, body: { title: 'elsewhere' }, host: h.otherDomain });
    const mine = await h.req('POST', '/data/io.cozy.notes/', { token, body: { title: 'here' } });
    const [note] = await notes.docs;
    expect(note).toMatchObject({ _id: mine.body.id, title: 'here' });
    expect(contacts).toEqual([]);
    rt.stop();
  });
});
