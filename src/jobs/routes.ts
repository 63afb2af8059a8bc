/**
 * /jobs as cozy-stack's web/jobs (docs/jobs.md): queues, jobs, triggers and webhooks. Rights go
 * through the permission module: queuing a job or creating a trigger needs a rule restricted to the
 * worker (`io.cozy.jobs:POST:sendmail:worker`), a whole-doctype right is not enough; a konnector
 * manages its own triggers without a rule.
 */
import { RUN_LOGS_DOCTYPE, type RunLogs } from './run-logs.js';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { BadRequest, Conflict, Forbidden, NotFound } from '../common/errors.js';
import { addJsonParser, jsonBodyParser } from '../common/json-body.js';
import { instanceOf } from '../data/http/context.js';
import { enforceLimit, type RateLimiter } from '../limits/index.js';
import type { PermissionResolver } from '../permissions/resolve.js';
import { docFetcher, Permissions, type PermissionSet, type Verb } from '../permissions/rules.js';
import type { JobEngine } from './engine.js';
import type { Scheduler, TriggerInput } from './scheduler.js';
import * as schemas from './schemas.js';
import { jobResource, JSONAPI, stateResource, triggerResource } from './serialize.js';
import { JOBS_DOCTYPE, TRIGGERS_DOCTYPE, type JobDoc, type JobOptions, type TriggerDoc } from './types.js';

export interface JobsDeps {
  perms: PermissionResolver;
  engine: JobEngine;
  scheduler: Scheduler;
  limiter: RateLimiter;
  /** The kept log lines of past runs (GET /jobs/:id/logs). */
  runLogs: RunLogs;
}

type Attrs = Record<string, unknown>;
const WEBHOOK_BODY_LIMIT = 256 * 1024;
const DURATION_UNITS: Record<string, number> = { D: 86_400_000, W: 7 * 86_400_000, M: 30 * 86_400_000, Y: 365 * 86_400_000 };

/** A JSON-API body, as the route's schema (schemas.ts) accepted it. */
type JsonApiBody = { Body: { data: { attributes: Attrs } } };
const attributesOf = (body: JsonApiBody['Body']): Attrs => body.data.attributes;

function optionsOf(v: unknown): JobOptions | null {
  if (v === undefined || v === null) return null;
  const o = v as Attrs;
  const out: JobOptions = {};
  if (o.timeout !== undefined) out.timeout = Number(o.timeout);
  if (o.max_exec_count !== undefined) out.max_exec_count = Number(o.max_exec_count);
  return out;
}

const konnectorSlug = (set: PermissionSet) => (set.type === 'konnector' && set.sourceId ? set.sourceId.slice('io.cozy.konnectors/'.length) : null);

/** A konnector may read, change, launch and delete its own triggers (cozy-stack). */
function ownsTrigger(set: PermissionSet, doc: TriggerDoc): boolean {
  const slug = konnectorSlug(set);
  return slug !== null && (doc.message as { konnector?: unknown } | null)?.konnector === slug;
}

function allowTrigger(set: PermissionSet, verb: Verb, doc: TriggerDoc): void {
  if (ownsTrigger(set, doc)) return;
  if (!Permissions.allowsDoc(set, verb, TRIGGERS_DOCTYPE, docFetcher(doc as unknown as Attrs))) throw new Forbidden(`this token cannot ${verb} this trigger`);
}

function allowJob(set: PermissionSet, verb: Verb, job: JobDoc): void {
  if (!Permissions.allowsDoc(set, verb, JOBS_DOCTYPE, docFetcher(job as unknown as Attrs))) throw new Forbidden(`this token cannot ${verb} this job`);
}

function csv(v: unknown): string[] | undefined {
  return typeof v === 'string' && v !== '' ? v.split(',').map((s) => s.trim()).filter(Boolean) : undefined;
}

export function parsePurgeDuration(text: string): number {
  const m = /^(\d{1,4})([DWMY])$/.exec(text);
  if (!m) throw new BadRequest('duration must be a number and a unit: D (days), W (weeks), M (months) or Y (years), such as 2M');
  return Number(m[1]) * DURATION_UNITS[m[2]!]!;
}

export function registerJobsRoutes(app: FastifyInstance, deps: JobsDeps): void {
  const { engine, scheduler } = deps;
  const caller = async (req: FastifyRequest) => {
    const instance = instanceOf(req);
    return { instance, set: await deps.perms.forRequest(instance, req) };
  };

  void app.register(async (scope) => {
    addJsonParser(scope, JSONAPI);
    scope.addHook('onSend', async (_req, reply, payload) => {
      if (String(reply.getHeader('content-type') ?? '').startsWith('application/json')) reply.header('content-type', JSONAPI);
      return payload;
    });

    scope.post<{ Params: { worker: string } } & JsonApiBody>('/jobs/queue/:worker', { schema: schemas.queueJob }, async (req, reply) => {
      const { instance, set } = await caller(req);
      const worker = req.params.worker;
      const def = engine.worker(worker);
      if (!def) throw new BadRequest(`there is no worker named "${worker.slice(0, 60)}"`);
      if (def.internal) throw new Forbidden(`the ${worker} worker is internal to the server: run it with \`hearth jobs run ${worker}\``);
      if (!Permissions.allowsOnField(set, 'POST', JOBS_DOCTYPE, 'worker', worker)) {
        throw new Forbidden(`this token cannot queue ${worker} jobs: it needs a right io.cozy.jobs:POST:${worker}:worker`);
      }
      if (worker === 'konnector') await enforceLimit(deps.limiter, 'jobKonnector', instance.id);
      if (worker === 'zip') await enforceLimit(deps.limiter, 'jobZip', instance.id);
      if (worker === 'service') await enforceLimit(deps.limiter, 'jobService', instance.id);
      const attrs = attributesOf(req.body);
      const job = await engine.push(instance.domain, { worker, message: attrs.arguments ?? attrs.message ?? null, options: optionsOf(attrs.options), manual: attrs.manual === true, rights: set });
      return reply.code(202).send({ data: jobResource(job) });
    });

    scope.get<{ Params: { worker: string } }>('/jobs/queue/:worker', { schema: schemas.queuedJobs }, async (req) => {
      const { instance, set } = await caller(req);
      const worker = req.params.worker;
      if (!Permissions.allowsDoc(set, 'GET', JOBS_DOCTYPE, docFetcher({ worker }))) throw new Forbidden(`this token cannot read the ${worker} queue`);
      const jobs = await engine.broker.list(instance.domain, { worker, states: ['queued'], limit: 1000 });
      return { data: jobs.map(jobResource), meta: { count: jobs.length } };
    });

    scope.delete<{ Querystring: { duration?: string; workers?: string } }>('/jobs/purge', { schema: schemas.purge }, async (req) => {
      const { instance, set } = await caller(req);
      if (!Permissions.allowsWholeType(set, 'DELETE', JOBS_DOCTYPE)) throw new Forbidden('purging jobs needs a DELETE right on the whole io.cozy.jobs doctype');
      const keepMs = parsePurgeDuration(req.query.duration ?? '2M');
      const deleted = await engine.broker.purge(instance.domain, Date.now() - keepMs, csv(req.query.workers) ?? null);
      return { deleted };
    });

    registerTriggerRoutes(scope, deps, caller);

    scope.get<{ Params: { id: string } }>('/jobs/:id', { schema: schemas.getJob }, async (req) => {
      const { instance, set } = await caller(req);
      const job = await engine.broker.get(instance.domain, req.params.id);
      if (!job) throw new NotFound(`no job ${req.params.id.slice(0, 64)}`);
      allowJob(set, 'GET', job);
      return { data: jobResource(job) };
    });

    // Hearth's: what a past run printed (jobs/run-logs.ts), to whoever may read the job
    scope.get<{ Params: { id: string } }>('/jobs/:id/logs', { schema: schemas.jobLogs }, async (req) => {
      const { instance, set } = await caller(req);
      const job = await engine.broker.get(instance.domain, req.params.id);
      if (!job) throw new NotFound(`no job ${req.params.id.slice(0, 64)}`);
      allowJob(set, 'GET', job);
      return { data: { type: RUN_LOGS_DOCTYPE, id: job._id, attributes: await deps.runLogs.read(instance, job._id) } };
    });

    scope.patch<{ Params: { id: string } } & JsonApiBody>('/jobs/:id', { schema: schemas.patchJob }, async (req) => {
      const { instance, set } = await caller(req);
      const job = await engine.broker.get(instance.domain, req.params.id);
      if (!job) throw new NotFound(`no job ${req.params.id.slice(0, 64)}`);
      if (job.worker !== 'client') throw new Forbidden('only the jobs of @client triggers are updated by their client');
      const trigger = job.trigger_id ? await scheduler.get(instance.domain, job.trigger_id).catch(() => null) : null;
      if (!(trigger && ownsTrigger(set, trigger))) allowJob(set, 'PATCH', job);
      const attrs = attributesOf(req.body);
      if (job.state === 'done' || job.state === 'errored') throw new Conflict(`this job already ended (${job.state})`);
      const error = typeof attrs.error === 'string' ? attrs.error.slice(0, 1000) : undefined;
      return { data: jobResource(await engine.report(instance.domain, job._id, attrs.state as 'done' | 'errored', error)) };
    });
  });

  // webhooks: no token, any content type; the JSON body (if any) becomes the job's payload
  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    // any content type: the body, if not empty, must be JSON (the one JSON parser, common/json-body.ts)
    const json = jsonBodyParser(scope, true);
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: WEBHOOK_BODY_LIMIT }, (req, body, done) => {
      if ((body as Buffer).every((b) => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09)) return done(null, null);
      json(req, body as Buffer, (err, value) => done(err ? new BadRequest(err instanceof BadRequest ? err.reason : 'invalid JSON: a webhook body is JSON or empty') : null, value));
    });
    scope.post<{ Params: { id: string }; Querystring: { Manual?: string } }>('/jobs/webhooks/:id', { schema: schemas.webhook }, async (req, reply) => {
      const instance = instanceOf(req);
      await enforceLimit(deps.limiter, 'webhookTrigger', instance.id);
      const payload = req.body ?? null;
      const doc = await scheduler.get(instance.domain, req.params.id).catch(() => null);
      if (!doc || doc.type !== '@webhook') throw new NotFound('no webhook trigger with this id');
      await scheduler.webhook(doc._id, payload, req.query.Manual === 'true');
      return reply.code(204).send();
    });
  });
}

function registerTriggerRoutes(
  scope: FastifyInstance,
  deps: JobsDeps,
  caller: (req: FastifyRequest) => Promise<{ instance: { domain: string; id: string }; set: PermissionSet }>,
): void {
  const { scheduler } = deps;
  const load = async (req: FastifyRequest<{ Params: { id: string } }>, verb: Verb) => {
    const { instance, set } = await caller(req);
    const doc = await scheduler.get(instance.domain, req.params.id);
    allowTrigger(set, verb, doc);
    return { instance, set, doc };
  };

  scope.post<JsonApiBody>('/jobs/triggers', { schema: schemas.createTrigger }, async (req, reply) => {
    const { instance, set } = await caller(req);
    const attrs = attributesOf(req.body);
    const worker = String(attrs.worker ?? '');
    const message = attrs.message ?? attrs.worker_arguments ?? null;
    const slug = konnectorSlug(set);
    const ownKonnector = slug !== null && worker === 'konnector' && (message as { konnector?: unknown } | null)?.konnector === slug;
    if (!ownKonnector && !Permissions.allowsOnField(set, 'POST', TRIGGERS_DOCTYPE, 'worker', worker)) {
      throw new Forbidden(`this token cannot create ${worker} triggers: it needs a right io.cozy.triggers:POST:${worker}:worker`);
    }
    if (engine(deps).worker(worker)?.internal) throw new Forbidden(`the ${worker} worker is internal to the server`);
    const input: TriggerInput = { type: String(attrs.type ?? ''), arguments: typeof attrs.arguments === 'string' ? attrs.arguments : '', worker, message, options: optionsOf(attrs.options), rights: set };
    if (typeof attrs.debounce === 'string' && attrs.debounce !== '') input.debounce = attrs.debounce;
    const doc = await scheduler.create(instance.domain, input);
    return reply.code(201).send({ data: triggerResource(doc) });
  });

  scope.get<{ Querystring: { Worker?: string; Type?: string } }>('/jobs/triggers', { schema: schemas.listTriggers }, async (req) => {
    const { instance, set } = await caller(req);
    const all = await scheduler.list(instance.domain, { workers: csv(req.query.Worker), types: csv(req.query.Type) });
    const visible = all.filter((doc) => ownsTrigger(set, doc) || Permissions.allowsDoc(set, 'GET', TRIGGERS_DOCTYPE, docFetcher(doc as unknown as Attrs)));
    if (!visible.length && !Permissions.allowsDoc(set, 'GET', TRIGGERS_DOCTYPE, docFetcher({ worker: req.query.Worker ?? '' })) && konnectorSlug(set) === null) {
      throw new Forbidden('this token cannot read triggers');
    }
    return { data: visible.map(triggerResource), meta: { count: visible.length } };
  });

  scope.get<{ Params: { id: string } }>('/jobs/triggers/:id', { schema: schemas.getTrigger }, async (req) => ({ data: triggerResource((await load(req, 'GET')).doc) }));
  scope.get<{ Params: { id: string } }>('/jobs/triggers/:id/state', { schema: schemas.triggerState }, async (req) => ({ data: stateResource((await load(req, 'GET')).doc) }));
  scope.get<{ Params: { id: string }; Querystring: { Limit?: string } }>('/jobs/triggers/:id/jobs', { schema: schemas.triggerJobs }, async (req) => {
    const { instance, doc } = await load(req, 'GET');
    const limit = Math.min(Math.max(Number.parseInt(req.query.Limit ?? '100', 10) || 100, 1), 1000);
    const jobs = await engine(deps).broker.list(instance.domain, { triggerId: doc._id, limit });
    return { data: jobs.map(jobResource), meta: { count: jobs.length } };
  });
  scope.patch<{ Params: { id: string } } & JsonApiBody>('/jobs/triggers/:id', { schema: schemas.patchTrigger }, async (req) => {
    const { instance, doc } = await load(req, 'PATCH');
    refuseInternal(deps, doc.worker, 'changed');
    const attrs = attributesOf(req.body);
    // the trigger's jobs then act with the rights of the token that changed it
    const change: Parameters<Scheduler['patch']>[2] = { rights: (await caller(req)).set };
    if (typeof attrs.type === 'string') change.type = attrs.type;
    if (typeof attrs.arguments === 'string') change.arguments = attrs.arguments;
    if (attrs.message !== undefined) change.message = attrs.message;
    return { data: triggerResource(await scheduler.patch(instance.domain, doc._id, change)) };
  });
  scope.post<{ Params: { id: string } }>('/jobs/triggers/:id/launch', { schema: schemas.launchTrigger }, async (req, reply) => {
    const { doc } = await load(req, 'POST');
    refuseInternal(deps, doc.worker, 'launched');
    const job = await scheduler.launch(doc);
    return reply.code(201).send({ data: job ? jobResource(job) : null });
  });
  scope.delete<{ Params: { id: string } }>('/jobs/triggers/:id', { schema: schemas.deleteTrigger }, async (req, reply) => {
    const { instance, doc } = await load(req, 'DELETE');
    await scheduler.delete(instance.domain, doc._id);
    return reply.code(204).send();
  });
}

const engine = (deps: JobsDeps) => deps.engine;

/** The stack's own triggers (an internal worker's, e.g. a delayed notification) are read-only on the public API. */
function refuseInternal(deps: JobsDeps, worker: string, what: string): void {
  if (engine(deps).worker(worker)?.internal) throw new Forbidden(`this trigger of the internal ${worker} worker cannot be ${what} through the API`);
}
