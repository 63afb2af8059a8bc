/**
 * The reference of the realtime benchmark (bench/realtime.bench.ts): a bare `ws` WebSocketServer on a bare node:http
 * server, no framework, no storage, no permission check — the floor cost of fanning one message out to N sockets with
 * ws on this machine. It speaks just enough of cozy-stack's realtime protocol for the same client to drive it:
 *   - `GET /realtime/` upgrades (subprotocol `io.cozy.websocket`, no permessage-deflate, inbound messages ≤ 1024
 *     bytes); the first message must be `{"method":"AUTH",…}` (any token is accepted), then each
 *     `{"method":"SUBSCRIBE","payload":{"type":…}}` adds the socket to that doctype's subscribers;
 *   - `POST /data/<doctype>/` reads the JSON body, gives it an `_id` and `_rev` of cozy's shape, answers 201
 *     `{ok,id,rev,type,data}`, then (in the same tick) encodes `{"event":"CREATED","payload":{"type","id","doc"}}`
 *     ONCE and sends that buffer to every subscriber of the doctype.
 * `node bench/ws-server.js <dir>`; prints one JSON line {port}.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

const PROTOCOL = 'io.cozy.websocket';
const subscribers = new Map<string, Set<WebSocket>>();

const server = createServer((req, res) => {
  const m = /^\/data\/([a-z0-9._-]+)\/$/i.exec(req.url ?? '');
  if (req.method !== 'POST' || !m) return void res.writeHead(404).end();
  const doctype = m[1] ?? '';
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
    } catch {
      return void res.writeHead(400).end();
    }
    const id = randomUUID().replace(/-/g, '');
    const rev = `1-${randomBytes(16).toString('hex')}`;
    const doc = { ...body, _id: id, _rev: rev };
    const out = JSON.stringify({ ok: true, id, rev, type: doctype, data: { ...doc, _type: doctype } });
    res.writeHead(201, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) }).end(out);
    const frame = Buffer.from(JSON.stringify({ event: 'CREATED', payload: { type: doctype, id, doc } }));
    for (const ws of subscribers.get(doctype) ?? []) ws.send(frame, { binary: false, compress: false });
  });
});

const wss = new WebSocketServer({
  server,
  path: '/realtime/',
  perMessageDeflate: false,
  clientTracking: false,
  maxPayload: 1024,
  handleProtocols: (protocols) => (protocols.has(PROTOCOL) ? PROTOCOL : false),
});

wss.on('connection', (ws) => {
  let authed = false;
  const mine = new Set<string>();
  ws.on('message', (data) => {
    let cmd: { method?: unknown; payload?: { type?: unknown } };
    try {
      cmd = JSON.parse(String(data)) as typeof cmd;
    } catch {
      return void ws.close(1003, 'bad json');
    }
    const method = String(cmd.method ?? '').toUpperCase();
    if (!authed) {
      if (method !== 'AUTH') return void ws.close(1008, 'AUTH first');
      authed = true;
      return;
    }
    if (method === 'SUBSCRIBE' && typeof cmd.payload?.type === 'string') {
      const type = cmd.payload.type;
      let set = subscribers.get(type);
      if (!set) subscribers.set(type, (set = new Set()));
      set.add(ws);
      mine.add(type);
    }
  });
  ws.on('close', () => {
    for (const type of mine) subscribers.get(type)?.delete(ws);
  });
  ws.on('error', () => undefined);
});

server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, () => {
  process.stdout.write(JSON.stringify({ port: (server.address() as AddressInfo).port }) + '\n');
});
process.on('SIGTERM', () => process.exit(0));
