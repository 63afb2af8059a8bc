/**
 * The changes feed: normal, longpoll, continuous and eventsource. Waiting is
 * driven by the event bus (every durable write publishes), never by polling.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { BadRequest, NotImplemented } from '../../common/errors.js';
import type { ChangesOptions, ChangesResult } from '../store.js';
import { assertQueryable, count, jsonParam, transformRows, wholeType, type DataDeps, type Access } from './context.js';
import * as schemas from './schemas.js';

/** The query of _changes, as its schema (schemas.ts) coerced it. */
type Q = {
  since?: string; feed?: 'normal' | 'longpoll' | 'continuous' | 'eventsource'; style?: 'main_only' | 'all_docs'; limit?: string; descending?: boolean;
  include_docs?: boolean; conflicts?: boolean; filter?: string; doc_ids?: string; timeout?: string; heartbeat?: string;
};

export function changesOptions(q: Q, body: unknown): ChangesOptions {
  const b = (body ?? {}) as Record<string, unknown>;
  const opts: ChangesOptions = { since: q.since, limit: count(q.limit), descending: q.descending, include_docs: q.include_docs, conflicts: q.conflicts, style: q.style ?? 'main_only' };
  const filter = q.filter;
  if (filter === '_doc_ids') {
    const ids = b.doc_ids ?? jsonParam(q.doc_ids, 'doc_ids');
    if (!Array.isArray(ids) || !ids.every((i) => typeof i === 'string') || ids.length > 10_000) {
      throw new BadRequest('filter=_doc_ids needs "doc_ids": an array of at most 10000 ids', 'query_parse_error');
    }
    opts.doc_ids = ids as string[];
  } else if (filter === '_selector') {
    if (!b.selector || typeof b.selector !== 'object' || Array.isArray(b.selector)) throw new BadRequest('filter=_selector needs a "selector" object in the body');
    opts.selector = b.selector as Record<string, unknown>;
  } else if (filter === '_design') {
    opts.selector = { _id: { $gt: '_design/', $lt: '_design0' } };
  } else if (filter !== undefined) {
    throw new NotImplemented(`filter=${String(filter).slice(0, 60)} is not supported: use _doc_ids, _selector or _design`);
  }
  return opts;
}

/** `heartbeat=<ms>` (CouchDB's; `true` is handled by the caller). */
function heartbeatMs(v: string | undefined): number | undefined {
  if (v === undefined || v === '') return undefined;
  if (!/^\d{1,16}$/.test(v)) throw new BadRequest('heartbeat must be true or an integer number of milliseconds', 'query_parse_error');
  return Number(v);
}

/** Writes headers that hooks (CORS…) set on the reply, then takes over the raw response. */
function hijack(reply: FastifyReply, contentType: string): void {
  reply.hijack();
  const headers = { ...(reply.getHeaders() as Record<string, string>), 'content-type': contentType, 'cache-control': 'no-cache' };
  reply.raw.writeHead(200, headers);
}

async function stream(deps: DataDeps, req: FastifyRequest, reply: FastifyReply, access: Access, opts: ChangesOptions, feed: string, q: Q): Promise<void> {
  const maxWait = deps.config.data.changesTimeoutMs;
  const timeout = Math.min(count(q.timeout) ?? maxWait, maxWait);
  const heartbeatParam = q.heartbeat === 'true' ? 60_000 : heartbeatMs(q.heartbeat);
  const heartbeat = heartbeatParam && heartbeatParam > 0 ? Math.max(heartbeatParam, 1000) : null;
  let wake: (() => void) | null = null;
  let dirty = false;
  const unsubscribe = deps.bus.subscribe(access.instance.domain, access.doctype, () => {
    dirty = true;
    wake?.();
  });
  let closed = false;
  const end = () => {
    closed = true;
    wake?.();
  };
  reply.raw.on('close', end);
  deps.shutdown.addEventListener('abort', end, { once: true });
  const contentType = feed === 'eventsource' ? 'text/event-stream' : 'application/json';
  let started = false;
  const start = () => {
    if (!started) hijack(reply, contentType);
    started = true;
  };
  const beat = heartbeat ? setInterval(() => { start(); reply.raw.write('\n'); }, heartbeat) : null;
  const deadline = Date.now() + timeout;
  let since = opts.since;
  let remaining = opts.limit;
  let result: ChangesResult = { results: [], last_seq: since ?? '0', pending: 0 };
  try {
    while (!closed) {
      dirty = false;
      result = await access.store.changes(access.doctype, { ...opts, since, limit: remaining });
      await transformRows(deps, access, result.results, 'doc');
      if (result.results.length && feed === 'longpoll') break;
      if (result.results.length) {
        start();
        for (const row of result.results) {
          if (feed === 'eventsource') reply.raw.write(`data: ${JSON.stringify(row)}\nid: ${row.seq}\n\n`);
          else reply.raw.write(JSON.stringify(row) + '\n');
        }
        if (remaining !== undefined) {
          remaining -= result.results.length;
          if (remaining <= 0) break;
        }
      }
      since = result.last_seq;
      const left = deadline - Date.now();
      if (left <= 0) break;
      if (!dirty) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = null;
      }
    }
  } finally {
    deps.shutdown.removeEventListener('abort', end);
    unsubscribe();
    if (beat) clearInterval(beat);
  }
  if (closed && reply.raw.destroyed) return;
  start();
  if (feed === 'longpoll') reply.raw.end(JSON.stringify({ results: result.results, last_seq: result.last_seq, pending: result.pending }) + '\n');
  else if (feed === 'continuous') reply.raw.end(JSON.stringify({ last_seq: since ?? result.last_seq, pending: 0 }) + '\n');
  else reply.raw.end();
}

export function registerChangesRoutes(app: FastifyInstance, deps: DataDeps): void {
  const handler = async (req: FastifyRequest<{ Params: { doctype: string }; Querystring: Q }>, reply: FastifyReply) => {
    const access = await wholeType(deps, req, req.params.doctype, 'GET');
    const q = req.query;
    const feed = q.feed ?? 'normal';
    const opts = changesOptions(q, req.body);
    if (opts.selector) assertQueryable(deps, access, opts.selector);
    if (feed === 'normal' || opts.descending) {
      const res = await access.store.changes(access.doctype, opts);
      await transformRows(deps, access, res.results, 'doc');
      return res;
    }
    await stream(deps, req, reply, access, opts, feed, q);
    return reply;
  };
  app.get('/data/:doctype/_changes', { schema: schemas.changes }, handler);
  app.post('/data/:doctype/_changes', { schema: schemas.changesFiltered }, handler);
}
