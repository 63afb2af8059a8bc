/**
 * The realtime routes with shortened beats and limits (constructor options), on their own Fastify app
 * over a real Hearth's registry, permissions, files and bus: pings, the read deadline, the AUTH
 * deadline, the subscription cap, a client that does not read, the SSE heartbeat and the shutdown.
 */
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type TestHearth } from '../../test/helpers/hearth.js';
import { openWs } from '../../test/helpers/ws.js';
import { NotFound } from '../common/errors.js';
import { errorHandler } from '../server/http-errors.js';
import { installSchemaCompilers } from '../server/validation.js';
import { InProcessHub } from './hub.js';
import { registerRealtimeRoutes } from './routes.js';
import type { RealtimeOptions } from './ws.js';

let h: TestHearth;
let app: FastifyInstance;
let port: number;
let hub: InProcessHub;
let token: string;

async function startApp(options: Partial<RealtimeOptions>): Promise<{ app: FastifyInstance; port: number; hub: InProcessHub }> {
  const app = Fastify();
  app.decorateRequest('instance', null);
  app.setErrorHandler(errorHandler);
  installSchemaCompilers(app, { serializeResponses: true });
  app.addHook('onRequest', async (req) => {
    req.instance = await h.hearth.registry.findByHost(req.headers.host ?? '');
    if (!req.instance) throw new NotFound('no instance');
  });
  const hub = new InProcessHub(h.hearth.bus);
  await registerRealtimeRoutes(app, { hub, perms: h.hearth.perms, vfs: h.hearth.vfs, options });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, hub, port: (app.server.address() as AddressInfo).port };
}

beforeAll(async () => {
  h = await startTestHearth();
  token = await h.cliToken('io.cozy.contacts io.cozy.notes');
  ({ app, port, hub } = await startApp({ pingMs: 40, readDeadlineMs: 250, sseHeartbeatMs: 40, maxSubscriptions: 2 }));
});
afterAll(async () => {
  await app.close();
  hub.close();
  await h.close();
});

describe('beats and deadlines', () => {
  it('pings, and a client that answers stays well past the read deadline', async () => {
    const c = await openWs(port, h.domain);
    c.auth(token);
    await c.barrier();
    await expect.poll(() => c.pings, { timeout: 5000 }).toBeGreaterThanOrEqual(12); // 12 × 40 ms > 250 ms
    expect(c.ws.readyState).toBe(c.ws.OPEN);
    await c.close();
  });

  it('drops a client that does not answer pings', async () => {
    const c = await openWs(port, h.domain, { autoPong: false });
    c.auth(token);
    const closed = await c.closed;
    expect(closed.code).toBe(1006); // no close frame: the connection is cut, as cozy-stack's read deadline does
    expect(c.pings).toBeGreaterThan(0);
  });

  it('closes a connection that never sends AUTH', async () => {
    const c = await openWs(port, h.domain);
    const err = await c.next();
    expect(err.payload).toMatchObject({ status: '401 Unauthorized', title: 'The authentication has failed', detail: expect.stringMatching(/no AUTH message came/) });
    expect((await c.closed).code).toBe(1008);
  });
});

describe('limits', () => {
  it('caps the subscriptions of one connection', async () => {
    const c = await openWs(port, h.domain);
    c.auth(token);
    c.subscribe('io.cozy.contacts');
    c.subscribe('io.cozy.contacts'); // the same one again is no new subscription
    c.subscribe('io.cozy.notes', 'n1');
    c.subscribe('io.cozy.notes', 'n2');
    const err = await c.next();
    expect(err.payload).toMatchObject({ status: '429 Too Many Requests', source: { payload: { type: 'io.cozy.notes', id: 'n2' } } });
    c.send({ method: 'UNSUBSCRIBE', payload: { type: 'io.cozy.notes' } });
    c.subscribe('io.cozy.notes', 'n2');
    await c.barrier();
    expect(c.messages.filter((m) => m.payload.status === '429 Too Many Requests')).toHaveLength(1);
    expect(hub.listeners(h.domain, 'io.cozy.notes')).toBe(1);
    await c.close();
  });
});

describe('slow clients', () => {
  it('drops a client that does not read its events', async () => {
    // long deadlines: only the pile of unread events can drop it
    const own = await startApp({ maxBufferedBytes: 64 * 1024 });
    const slow = await openWs(own.port, h.domain);
    slow.auth(token);
    slow.subscribe('io.cozy.notes');
    await slow.barrier();
    slow.ws.pause(); // reads nothing more: the kernel buffers fill, then the server's
    const notifier = await h.cliToken('io.cozy.notes:POST');
    const body = JSON.stringify({ chunk: 'x'.repeat(200 * 1024) });
    let sent = 0;
    while (own.hub.connectionCount() > 0 && sent < 500) {
      const status = await new Promise<number>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: own.port, method: 'POST', path: `/realtime/io.cozy.notes/n${sent}`, agent: false,
          headers: { host: h.domain, authorization: `Bearer ${notifier}`, 'content-type': 'application/json' } }, (r) => {
          r.resume();
          resolve(r.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end(body);
      });
      expect(status).toBe(204);
      sent++;
      await new Promise((r) => setImmediate(r)); // the fan-out of that event
    }
    expect(own.hub.connectionCount()).toBe(0);
    expect(sent).toBeGreaterThan(1);
    slow.ws.resume();
    expect((await slow.closed).code).toBe(1006);
    await own.app.close();
    own.hub.close();
  });
});

describe('SSE heartbeat and shutdown', () => {
  it('sends comment heartbeats, and the shutdown ends streams and closes sockets with 1001', async () => {
    let text = '';
    const ended = new Promise<void>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/realtime/sse?types=io.cozy.contacts', headers: { host: h.domain, authorization: `Bearer ${token}` }, agent: false }, (res) => {
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', resolve);
      });
      req.on('error', reject);
      req.end();
    });
    await expect.poll(() => text.split(':\n\n').length, { timeout: 5000 }).toBeGreaterThan(3);
    expect(text.startsWith(': subscribed\n\n')).toBe(true);
    const c = await openWs(port, h.domain);
    c.auth(token);
    await c.barrier();
    await app.close();
    await ended;
    expect((await c.closed).code).toBe(1001);
    await expect.poll(() => hub.connectionCount()).toBe(0);
  });
});
