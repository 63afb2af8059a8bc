/**
 * A raw `ws` client for the realtime tests: it keeps every message, waits for the first one not yet
 * taken that matches a predicate (and takes it), and knows how the server closed. `barrier()` sends an unknown command and waits for its
 * 405 error: the server handles a connection's messages in order, so every earlier SUBSCRIBE is
 * active once it answers.
 */
import { WebSocket, type ClientOptions } from 'ws';

export interface Msg {
  event: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  payload: any;
}

export interface RtClient {
  ws: WebSocket;
  /** Every message received, parsed, in order. */
  messages: Msg[];
  /** The raw text of every message. */
  raw: string[];
  pings: number;
  closed: Promise<{ code: number; reason: string }>;
  send(message: unknown): void;
  next(match?: (m: Msg) => boolean, timeoutMs?: number): Promise<Msg>;
  barrier(): Promise<void>;
  auth(token: string): void;
  subscribe(type: string, id?: string): void;
  /** Closes and waits until closed. */
  close(): Promise<unknown>;
}

export function openWs(port: number, host: string, opts: ClientOptions & { protocols?: string[] } = {}): Promise<RtClient> {
  const { protocols = ['io.cozy.websocket'], ...options } = opts;
  const ws = new WebSocket(`ws://127.0.0.1:${port}/realtime/`, protocols, { ...options, headers: { host, ...options.headers } });
  const messages: Msg[] = [];
  const raw: string[] = [];
  const consumed = new Set<number>();
  const waiters = new Set<() => void>();
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.on('close', (code, reason) => {
      resolve({ code, reason: reason.toString() });
      waiters.forEach((w) => w());
    });
  });
  let probes = 0;
  const c: RtClient = {
    ws, messages, raw, pings: 0, closed,
    send: (m) => ws.send(typeof m === 'string' ? m : JSON.stringify(m)),
    auth: (token) => c.send({ method: 'AUTH', payload: token }),
    subscribe: (type, id) => c.send({ method: 'SUBSCRIBE', payload: id ? { type, id } : { type } }),
    next(match = () => true, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          for (let i = 0; i < messages.length; i++) {
            const m = messages[i]!;
            if (!consumed.has(i) && match(m)) {
              consumed.add(i);
              waiters.delete(check);
              clearTimeout(timer);
              resolve(m);
              return;
            }
          }
          if (ws.readyState === WebSocket.CLOSED) {
            waiters.delete(check);
            clearTimeout(timer);
            reject(new Error(`the connection closed; messages: ${raw.join(' | ').slice(0, 2000)}`));
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching message within ${timeoutMs} ms; messages: ${raw.join(' | ').slice(0, 2000)}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    async barrier() {
      const method = `PROBE${++probes}`;
      c.send({ method });
      await c.next((m) => m.event === 'error' && m.payload?.source?.method === method);
    },
    close: () => {
      ws.close();
      return closed;
    },
  };
  ws.on('message', (data) => {
    const text = String(data);
    raw.push(text);
    messages.push(JSON.parse(text) as Msg);
    waiters.forEach((w) => w());
  });
  ws.on('ping', () => c.pings++);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(c));
    ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode })));
    ws.once('error', reject);
  });
}
