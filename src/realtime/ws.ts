/**
 * GET /realtime/: cozy-stack's io.cozy.websocket protocol over one WebSocket. The first message is
 * AUTH (its payload is the token, checked by the permission module with the upgrade request's cookie,
 * so that app tokens are bound to their session as everywhere); then SUBSCRIBE and UNSUBSCRIBE, each
 * checked against the token's rights (rights.ts). Messages are handled one after the other.
 *
 * Liveness, as cozy-stack: a ping every `pingMs`; a connection is dropped when nothing (a pong or a
 * message) came for `readDeadlineMs`, or when AUTH did not come within `readDeadlineMs`. One shared
 * interval drives every connection's pings and deadlines. A client that does not read its events
 * (more than `maxBufferedBytes` waiting) is dropped.
 */
import type { WebSocket, RawData } from 'ws';
import type { Logger } from 'pino';
import { HearthError } from '../common/errors.js';
import type { Vfs } from '../files/vfs.js';
import type { Instance } from '../instances/types.js';
import type { PermissionResolver } from '../permissions/resolve.js';
import type { PermissionSet } from '../permissions/rules.js';
import type { RealtimeHub, RealtimeSubscriber } from './hub.js';
import { badCommand, forbidden, missingType, parseAuth, parseCommand, tooManySubscriptions, unauthorized, unknownMethod, type WsError } from './protocol.js';
import { maySubscribe } from './rights.js';

export interface RealtimeOptions {
  /** Largest inbound message, in bytes (cozy-stack: 1024); a larger one closes the connection with 1009. */
  maxMessageBytes: number;
  /** Server pings every this many ms (cozy-stack: 54 s). */
  pingMs: number;
  /** A connection with nothing received (pong or message) for this long is dropped (cozy-stack: 60 s). */
  readDeadlineMs: number;
  /** SSE streams get a comment line every this many ms, so that proxies keep them open. */
  sseHeartbeatMs: number;
  /** Subscriptions (doctypes and ids) one connection may hold. */
  maxSubscriptions: number;
  /** Bytes of events waiting to be sent to one client before it is dropped as too slow. */
  maxBufferedBytes: number;
}

export const REALTIME_DEFAULTS: RealtimeOptions = {
  maxMessageBytes: 1024,
  pingMs: 54_000,
  readDeadlineMs: 60_000,
  sseHeartbeatMs: 20_000,
  maxSubscriptions: 1000,
  maxBufferedBytes: 8 * 1024 * 1024,
};

export interface GatewayDeps {
  hub: RealtimeHub;
  perms: PermissionResolver;
  vfs: Vfs;
  logger?: Pick<Logger, 'error' | 'debug'>;
}

interface Conn {
  socket: WebSocket;
  instance: Instance;
  cookie: string | undefined;
  sub: RealtimeSubscriber;
  set: PermissionSet | null;
  /** Dropped after this time unless something is received. */
  deadline: number;
  /** Dropped after this time unless authenticated. */
  authBy: number;
  queue: Buffer[];
  busy: boolean;
  closing: boolean;
}

const AS_TEXT = { binary: false } as const;
const QUEUE_PAUSE = 16;
const SHUTDOWN_GRACE_MS = 1000;

const toBuffer = (d: RawData): Buffer => (Buffer.isBuffer(d) ? d : Array.isArray(d) ? Buffer.concat(d) : Buffer.from(d));

export class WsGateway {
  private readonly conns = new Set<Conn>();
  private timer: NodeJS.Timeout | null = null;
  private lastPing = 0;

  constructor(private readonly deps: GatewayDeps, readonly opts: RealtimeOptions = REALTIME_DEFAULTS) {}

  /** Takes an upgraded socket of an instance's /realtime/. */
  accept(socket: WebSocket, instance: Instance, cookie: string | undefined): void {
    const now = Date.now();
    const c: Conn = {
      socket, instance, cookie, set: null, queue: [], busy: false, closing: false,
      deadline: now + this.opts.readDeadlineMs, authBy: now + this.opts.readDeadlineMs,
      sub: this.deps.hub.open(instance.domain, (event) => {
        if (socket.bufferedAmount > this.opts.maxBufferedBytes) socket.terminate();
        else socket.send(event.ws, AS_TEXT);
      }, { maxSubscriptions: this.opts.maxSubscriptions }),
    };
    this.conns.add(c);
    this.startTimer();
    socket.on('pong', () => {
      c.deadline = Date.now() + this.opts.readDeadlineMs;
    });
    socket.on('message', (data) => {
      c.deadline = Date.now() + this.opts.readDeadlineMs;
      c.queue.push(toBuffer(data));
      if (c.queue.length >= QUEUE_PAUSE && !socket.isPaused) socket.pause();
      if (!c.busy) void this.drain(c);
    });
    socket.on('close', () => {
      c.closing = true;
      c.queue.length = 0;
      c.sub.close();
      this.conns.delete(c);
      if (this.conns.size === 0) this.stopTimer();
    });
  }

  /** Closes every connection (1001), and drops those that do not answer within a second. */
  shutdown(): void {
    this.stopTimer();
    const open = [...this.conns];
    for (const c of open) this.hangUp(c, 1001, 'the server is shutting down');
    if (open.length) setTimeout(() => open.forEach((c) => c.socket.terminate()), SHUTDOWN_GRACE_MS);
  }

  private async drain(c: Conn): Promise<void> {
    c.busy = true;
    try {
      while (c.queue.length && !c.closing) await this.handle(c, c.queue.shift()!.toString('utf8'));
    } catch (err) {
      this.deps.logger?.error({ err, domain: c.instance.domain }, 'realtime message failed');
      this.hangUp(c, 1011, 'internal error: see the server log');
    } finally {
      c.busy = false;
      if (c.socket.isPaused) c.socket.resume();
    }
  }

  private send(c: Conn, e: WsError): void {
    c.socket.send(JSON.stringify(e));
  }

  private hangUp(c: Conn, code: number, reason: string): void {
    c.closing = true;
    c.socket.close(code, reason);
  }

  private async handle(c: Conn, text: string): Promise<void> {
    if (!c.set) return this.authenticate(c, text);
    const cmd = parseCommand(text);
    if (!cmd) {
      this.send(c, badCommand(text));
      return this.hangUp(c, 1007, 'the message is not a command');
    }
    const method = cmd.method.toUpperCase();
    if (method !== 'SUBSCRIBE' && method !== 'UNSUBSCRIBE') return this.send(c, unknownMethod(cmd.method, cmd, 'SUBSCRIBE or UNSUBSCRIBE'));
    const { type, id } = cmd.payload;
    if (!type) return this.send(c, missingType(cmd));
    if (!(await maySubscribe(this.deps.vfs, c.instance, c.set, type, id))) return this.send(c, forbidden(cmd));
    if (c.closing) return;
    if (method === 'UNSUBSCRIBE') return c.sub.unsubscribe(type, id || undefined);
    if (!c.sub.subscribe(type, id || undefined)) this.send(c, tooManySubscriptions(cmd, this.opts.maxSubscriptions));
  }

  private async authenticate(c: Conn, text: string): Promise<void> {
    const auth = parseAuth(text);
    if (auth.method.toUpperCase() !== 'AUTH') {
      this.send(c, unknownMethod(auth.method, auth.source, '{"method":"AUTH","payload":"<token>"} as the first message'));
      return this.hangUp(c, 1008, 'AUTH expected first');
    }
    if (!auth.token) {
      this.send(c, unauthorized(auth.source, 'the payload of AUTH is the token (app, OAuth, CLI or share token) as a string'));
      return this.hangUp(c, 1008, 'authentication failed');
    }
    try {
      c.set = await this.deps.perms.forRequest(c.instance, { headers: { authorization: `Bearer ${auth.token}`, cookie: c.cookie }, query: {} });
    } catch (err) {
      if (!(err instanceof HearthError) || err.status >= 500) throw err;
      this.send(c, unauthorized(auth.source, `${err.reason}: connect again with a valid token of this instance`));
      return this.hangUp(c, 1008, 'authentication failed');
    }
  }

  private startTimer(): void {
    if (this.timer) return;
    const { pingMs, readDeadlineMs } = this.opts;
    this.lastPing = Date.now();
    this.timer = setInterval(() => this.tick(), Math.max(10, Math.min(pingMs, readDeadlineMs) / 6));
    this.timer.unref();
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** The shared beat: drops the connections past their deadline, and pings the others every pingMs. */
  private tick(): void {
    const now = Date.now();
    const ping = now - this.lastPing >= this.opts.pingMs;
    if (ping) this.lastPing = now;
    for (const c of this.conns) {
      if (now > c.deadline) {
        c.closing = true;
        c.socket.terminate();
      } else if (!c.set && !c.busy && !c.closing && now > c.authBy) {
        this.send(c, unauthorized(null, `no AUTH message came within ${Math.round(this.opts.readDeadlineMs / 1000)} s of the connection: send it first`));
        this.hangUp(c, 1008, 'authentication failed');
      } else if (ping && !c.closing) {
        c.socket.ping();
      }
    }
  }
}
