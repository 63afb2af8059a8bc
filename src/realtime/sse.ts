/**
 * GET /realtime/sse?types=io.cozy.files,io.cozy.contacts/<id> (Hearth, beyond cozy-stack): one
 * Server-Sent Events stream carrying many subscriptions, for clients that cannot open WebSockets or
 * sit behind HTTP proxies. The token comes as on every route (Authorization: Bearer); every type is
 * checked as a WebSocket SUBSCRIBE would be, before the stream starts (401/403/400 otherwise). Each
 * event is one `data:` line holding exactly the WebSocket message (`{"event","payload":{type,id,doc}}`);
 * a comment line every `sseHeartbeatMs` (one shared interval) keeps proxies from closing it.
 */
import { PassThrough } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { BadRequest, Forbidden } from '../common/errors.js';
import { instanceOf } from '../data/http/context.js';
import { validateDoctype, validateLocalId } from '../data/doctype.js';
import type { RealtimeSubscriber } from './hub.js';
import { maySubscribe } from './rights.js';
import { REALTIME_DEFAULTS, type GatewayDeps, type RealtimeOptions } from './ws.js';

interface Stream {
  out: PassThrough;
  sub: RealtimeSubscriber;
}

const USAGE = 'give ?types=<doctype>[/<id>],… such as ?types=io.cozy.files,io.cozy.contacts/<id>';

/** The subscriptions of `?types=` (comma-separated, or repeated): doctypes, or doctype/id. */
export function parseTypes(raw: unknown, max: number): Array<{ type: string; id: string }> {
  const parts = (Array.isArray(raw) ? raw : [raw])
    .flatMap((v) => (typeof v === 'string' ? v.split(',') : []))
    .map((s) => s.trim())
    .filter(Boolean);
  if (parts.length === 0) throw new BadRequest(`no subscription: ${USAGE}`);
  if (parts.length > max) throw new BadRequest(`${parts.length} subscriptions in one stream, at most ${max}: subscribe to whole doctypes, or open another stream`);
  return parts.map((p) => {
    const slash = p.indexOf('/');
    const type = validateDoctype(slash < 0 ? p : p.slice(0, slash));
    const id = slash < 0 ? '' : validateLocalId(p.slice(slash + 1));
    return { type, id };
  });
}

export class SseStreams {
  private readonly streams = new Set<Stream>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly deps: GatewayDeps, private readonly opts: RealtimeOptions = REALTIME_DEFAULTS) {}

  async open(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const instance = instanceOf(req);
    const set = await this.deps.perms.forRequest(instance, req);
    const wanted = parseTypes((req.query as Record<string, unknown> | undefined)?.types, this.opts.maxSubscriptions);
    for (const { type, id } of wanted) {
      if (!(await maySubscribe(this.deps.vfs, instance, set, type, id))) {
        throw new Forbidden(`this token cannot subscribe to ${id ? `${type}/${id}` : type}: it needs the GET right on ${type}${id ? ' (or on that document)' : ''}`);
      }
    }
    const out = new PassThrough();
    const sub = this.deps.hub.open(instance.domain, (event) => {
      if (out.writableLength > this.opts.maxBufferedBytes) out.destroy();
      else out.write(event.sse);
    }, { maxSubscriptions: this.opts.maxSubscriptions });
    for (const { type, id } of wanted) sub.subscribe(type, id || undefined);
    const s: Stream = { out, sub };
    this.streams.add(s);
    this.startTimer();
    out.on('close', () => {
      sub.close();
      this.streams.delete(s);
      if (this.streams.size === 0) this.stopTimer();
    });
    reply.raw.on('close', () => out.destroy());
    out.write(': subscribed\n\n');
    return reply
      .header('Content-Type', 'text/event-stream; charset=utf-8')
      .header('Cache-Control', 'no-cache, no-transform')
      .header('X-Accel-Buffering', 'no')
      .send(out);
  }

  /** Ends every stream (the server is closing). */
  shutdown(): void {
    this.stopTimer();
    for (const s of [...this.streams]) s.out.end();
  }

  private startTimer(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      for (const s of this.streams) s.out.write(':\n\n');
    }, this.opts.sseHeartbeatMs);
    this.timer.unref();
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
