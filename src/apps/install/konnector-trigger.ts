/**
 * `POST /konnectors/:slug/trigger?AccountID=&ExecNow=true` (cozy-apps.md §5): the konnector's `@cron` trigger on
 * the `konnector` worker, its time drawn from the slug (so that every instance does not run a konnector at the
 * same second) within the manifest's `frequency` and `time_interval`; `ExecNow=true` also runs it now.
 *
 * Who may, as cozy-stack's createTrigger (web/apps): a token (no session cookie alone: 401 without one) whose rights allow
 * POST on that trigger, that is on the whole `io.cozy.triggers` doctype or with the `worker` selector naming `konnector`
 * (`io.cozy.triggers:POST:konnector:worker`, what cozy-harvest's apps hold). Unlike cozy-stack, the token is checked
 * before the konnector is looked up, so that no one without rights learns which konnectors are installed.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { BadRequest, Forbidden, NotFound } from '../../common/errors.js';
import { JSONAPI, jsonApi, openObject, params, query, resource, type RouteSchema } from '../../common/schemas.js';
import type { DocStore } from '../../data/store.js';
import type { Instance } from '../../instances/types.js';
import type { Scheduler } from '../../jobs/scheduler.js';
import { triggerResource } from '../../jobs/serialize.js';
import { TRIGGERS_DOCTYPE } from '../../jobs/types.js';
import type { PermissionResolver } from '../../permissions/resolve.js';
import { Permissions, type Fetcher } from '../../permissions/rules.js';
import { findApp } from '../repo.js';
import { instanceOf } from '../../data/http/context.js';

export interface KonnectorTriggerDeps {
  perms: PermissionResolver;
  storeOf(instance: Instance): DocStore;
  scheduler: Pick<Scheduler, 'create' | 'launch'>;
}

/** The crontab (seconds first) of a konnector: minute, second and hour (and day) drawn from its slug. */
export function konnectorCrontab(slug: string, frequency: unknown, interval: unknown): string {
  const b = createHash('sha256').update(slug).digest();
  const [lo, hi] = Array.isArray(interval) && interval.length === 2 && interval.every((h) => Number.isInteger(h) && h >= 0 && h <= 24) && interval[0] < interval[1]
    ? (interval as [number, number]) : [0, 5];
  const sec = b[0]! % 60;
  const min = b[1]! % 60;
  const hour = lo + (b[2]! % (hi - lo));
  switch (frequency ?? 'weekly') {
    case 'hourly': return `${sec} ${min} * * * *`;
    case 'daily': return `${sec} ${min} ${hour} * * *`;
    case 'weekly': return `${sec} ${min} ${hour} * * ${b[3]! % 7}`;
    case 'monthly': return `${sec} ${min} ${hour} ${1 + (b[3]! % 28)} * *`;
    default: throw new BadRequest(`the konnector's frequency "${String(frequency).slice(0, 40)}" is not hourly, daily, weekly or monthly`);
  }
}

const schema: RouteSchema = {
  summary: 'Creates the konnector\'s @cron trigger for an account (ExecNow=true also runs it now)', tags: ['apps'],
  params: params({ slug: 'The konnector\'s slug' }),
  querystring: query({ AccountID: 'The io.cozy.accounts id the konnector runs for', ExecNow: 'true: run it now too' }),
  response: { 201: jsonApi('The trigger', resource(TRIGGERS_DOCTYPE, openObject('type, arguments, worker, message…'))) },
};

/** The trigger the route makes, as a permission check sees it before it exists (cozy-stack's TriggerInfos.Fetch). */
const KONNECTOR_TRIGGER: Fetcher = { id: '', fetch: (field) => (field === 'worker' ? ['konnector'] : []) };

type Req = FastifyRequest<{ Params: { slug: string }; Querystring: { AccountID?: string; ExecNow?: string } }>;

export function registerKonnectorTriggerRoute(scope: FastifyInstance, deps: KonnectorTriggerDeps): void {
  scope.post('/konnectors/:slug/trigger', { schema }, async (req: Req, reply) => {
    const instance = instanceOf(req);
    const set = await deps.perms.forRequest(instance, req);
    if (!Permissions.allowsDoc(set, 'POST', TRIGGERS_DOCTYPE, KONNECTOR_TRIGGER)) {
      throw new Forbidden(`this token cannot create konnector triggers: it needs POST on ${TRIGGERS_DOCTYPE} (the whole doctype, or its worker konnector)`);
    }
    const doc = await findApp(deps.storeOf(instance), 'konnector', req.params.slug);
    if (!doc) throw new NotFound(`the konnector ${req.params.slug.slice(0, 80)} is not installed`);
    const message: Record<string, unknown> = { konnector: doc.slug };
    if (req.query.AccountID) message.account = req.query.AccountID;
    if (doc.folders !== undefined) message.folder_to_save = 'yes';
    const trigger = await deps.scheduler.create(instance.domain, { type: '@cron', arguments: konnectorCrontab(doc.slug, doc.frequency, doc.time_interval), worker: 'konnector', message });
    if (req.query.ExecNow === 'true') await deps.scheduler.launch(trigger);
    return reply.code(201).type(JSONAPI).send({ data: triggerResource(trigger) });
  });
}
