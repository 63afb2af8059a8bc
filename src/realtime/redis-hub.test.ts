/**
 * The realtime hub of one process delivers the events published by another (coordination.engine redis): two Hearths
 * on one Redis and one key prefix, an event published on A's bus reaches a WebSocket and an SSE subscriber of B, and a
 * NOTIFIED event given to A's hub reaches B's subscribers.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type TestHearth } from '../../test/helpers/hearth.js';
import { startRedis, type RedisServer } from '../../test/helpers/servers/redis.js';
import { openWs } from '../../test/helpers/ws.js';
import type { DocEvent } from '../common/bus.js';

let server: RedisServer | null = null;
let a: TestHearth;
let b: TestHearth;

beforeAll(async () => {
  let url = process.env.TEST_REDIS_URL;
  if (!url) {
    server = await startRedis();
    url = server.url;
  }
  const coordination = { engine: 'redis' as const, url, prefix: `hub${process.pid}:` };
  a = await startTestHearth({ coordination });
  b = await startTestHearth({ coordination });
});
afterAll(async () => {
  await Promise.all([a?.close(), b?.close()]);
  await server?.stop();
});

/** Publishes notes on A's bus for B's instance until `received` says one arrived (B's SUBSCRIBE to Redis may be on its way). */
async function publishUntil(received: () => boolean): Promise<void> {
  for (let i = 0; !received(); i++) {
    const event: DocEvent = { domain: b.domain, doctype: 'io.cozy.notes', id: `note-${i}`, verb: 'CREATED', doc: { _id: `note-${i}`, _rev: '1-abc', title: `from A ${i}` } };
    a.hearth.bus.publish(event);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('realtime across processes (Redis bus)', () => {
  it('a WebSocket subscriber of B receives a document event published on A', async () => {
    const c = await openWs(b.port, b.domain);
    c.auth(await b.cliToken('io.cozy.notes'));
    c.subscribe('io.cozy.notes');
    await c.barrier();
    await publishUntil(() => c.messages.some((m) => m.event === 'CREATED'));
    const got = await c.next((m) => m.event === 'CREATED');
    expect(got.payload).toMatchObject({ type: 'io.cozy.notes', doc: { _rev: '1-abc' } });
    expect(got.payload.doc.title).toBe(`from A ${got.payload.id.slice('note-'.length)}`);
    await c.close();
  });

  it('a NOTIFIED event (POST /realtime/:doctype/:id) given to the hub of A reaches the WebSocket subscriber of B', async () => {
    const c = await openWs(b.port, b.domain);
    c.auth(await b.cliToken('io.cozy.notes'));
    c.subscribe('io.cozy.notes');
    await c.barrier();
    for (let i = 0; !c.messages.some((m) => m.event === 'NOTIFIED'); i++) {
      a.hearth.realtime.notify(b.domain, 'io.cozy.notes', `ping-${i}`, { _id: `ping-${i}`, ping: true });
      await new Promise((r) => setTimeout(r, 50));
    }
    const got = await c.next((m) => m.event === 'NOTIFIED');
    expect(got.payload).toMatchObject({ type: 'io.cozy.notes', doc: { ping: true } });
    expect(got.payload.doc._id).toBe(got.payload.id);
    await c.close();
  });

  it('an SSE subscriber of B receives it too', async () => {
    const token = await b.cliToken('io.cozy.notes');
    let text = '';
    const req = request({ host: '127.0.0.1', port: b.port, path: '/realtime/sse?types=io.cozy.notes', headers: { host: b.domain, authorization: `Bearer ${token}`, accept: 'text/event-stream' } });
    const opened = new Promise<number>((resolve, reject) => {
      req.on('response', (res) => {
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
    });
    req.end();
    expect(await opened).toBe(200);
    await publishUntil(() => text.includes('"event":"CREATED"'));
    expect(text).toMatch(/data: \{"event":"CREATED","payload":\{"type":"io.cozy.notes","id":"note-\d+","doc":\{"_id":"note-\d+","_rev":"1-abc","title":"from A \d+"\}\}\}/);
    req.destroy();
  });
});
