/**
 * The admin API's jobs routes (behind its Basic auth), for `hearth jobs|triggers|konnectors`: any
 * worker may be queued here, internal ones included, and a job's life can be followed as NDJSON
 * lines (its states and what it emits) until it ends.
 */
import type { FastifyInstance } from 'fastify';
import { NotFound } from '../common/errors.js';
import type { DocEvent, EventBus } from '../common/bus.js';
import { findInstance } from '../instances/find.js';
import type { Instance, InstanceRegistry } from '../instances/types.js';
import type { JobEngine } from './engine.js';
import type { Scheduler } from './scheduler.js';
import * as schemas from './schemas.js';
import { jobResource, triggerResource } from './serialize.js';
import { JOB_EVENTS_DOCTYPE, JOBS_DOCTYPE, type JobDoc, type JobOptions } from './types.js';

export interface JobsAdminDeps {
  registry: InstanceRegistry;
  engine: JobEngine;
  scheduler: Scheduler;
  bus: EventBus;
}

const ended = (job: JobDoc) => job.state === 'done' || job.state === 'errored';

export function registerJobsAdminRoutes(app: FastifyInstance, deps: JobsAdminDeps): void {
  const { engine, scheduler } = deps;
  const find = (raw: string): Promise<Instance> => findInstance(deps.registry, raw);

  app.post<{ Params: { domain: string; worker: string }; Body: { arguments?: unknown; options?: JobOptions; manual?: boolean } | undefined }>(
    '/instances/:domain/jobs/queue/:worker',
    { schema: schemas.adminQueue },
    async (req, reply) => {
      const instance = await find(req.params.domain);
      const body = req.body ?? {};
      const job = await engine.push(instance.domain, { worker: req.params.worker, message: body.arguments ?? null, options: body.options ?? null, manual: body.manual !== false });
      return reply.code(202).send({ data: jobResource(job) });
    },
  );

  app.get<{ Params: { domain: string; id: string } }>('/instances/:domain/jobs/:id', { schema: schemas.adminJob }, async (req) => {
    const instance = await find(req.params.domain);
    const job = await engine.broker.get(instance.domain, req.params.id);
    if (!job) throw new NotFound(`no job ${req.params.id.slice(0, 64)}`);
    return { data: jobResource(job) };
  });

  app.get<{ Params: { domain: string; id: string } }>('/instances/:domain/jobs/:id/events', { schema: schemas.adminJobEvents }, async (req, reply) => {
    const instance = await find(req.params.domain);
    const id = req.params.id;
    const lines: string[] = [];
    let wake: (() => void) | null = null;
    let finished = false;
    const send = (line: object, last = false) => {
      lines.push(JSON.stringify(line) + '\n');
      if (last) finished = true;
      wake?.();
    };
    const onJob = (e: DocEvent) => e.id === id && send({ type: 'job', job: jobResource(e.doc as unknown as JobDoc) }, ended(e.doc as unknown as JobDoc));
    const onLog = (e: DocEvent) => e.id === id && send({ type: 'log', event: e.doc });
    const unsubscribe = [deps.bus.subscribe(instance.domain, JOBS_DOCTYPE, onJob), deps.bus.subscribe(instance.domain, JOB_EVENTS_DOCTYPE, onLog)];
    const job = await engine.broker.get(instance.domain, id);
    if (!job) {
      unsubscribe.forEach((u) => u());
      throw new NotFound(`no job ${id.slice(0, 64)}`);
    }
    send({ type: 'job', job: jobResource(job) }, ended(job));
    reply.hijack();
    reply.raw.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
    req.raw.once('close', () => {
      finished = true;
      wake?.();
    });
    try {
      for (;;) {
        while (lines.length) reply.raw.write(lines.shift()!);
        if (finished) break;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = null;
      }
    } finally {
      unsubscribe.forEach((u) => u());
      reply.raw.end();
    }
  });

  app.get<{ Params: { domain: string }; Querystring: { worker?: string; type?: string } }>('/instances/:domain/triggers', { schema: schemas.adminTriggers }, async (req) => {
    const instance = await find(req.params.domain);
    const split = (v?: string) => (v ? v.split(',').filter(Boolean) : undefined);
    const docs = await scheduler.list(instance.domain, { workers: split(req.query.worker), types: split(req.query.type) });
    return { data: docs.map(triggerResource), meta: { count: docs.length } };
  });

  app.post<{ Params: { domain: string; id: string } }>('/instances/:domain/triggers/:id/launch', { schema: schemas.adminLaunch }, async (req, reply) => {
    const instance = await find(req.params.domain);
    const job = await scheduler.launch(await scheduler.get(instance.domain, req.params.id));
    return reply.code(201).send({ data: job ? jobResource(job) : null });
  });
}
