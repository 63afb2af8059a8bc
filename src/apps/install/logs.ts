/**
 * `POST /apps/:slug/logs?job_id=&version=` and `/konnectors/:slug/logs` (cozy-apps.md §4.1): a client-side app's log
 * lines `[{timestamp, level, msg}]` written to the server log. Needs POST on `io.cozy.apps.logs`; an app's or a
 * konnector's token logs under its own slug. A level other than debug, info, warn(ing), error or critical is a 422.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Forbidden, UnprocessableEntity } from '../../common/errors.js';
import { noContent, params, query, type RouteSchema } from '../../common/schemas.js';
import { instanceOf } from '../../data/http/context.js';
import type { PermissionResolver } from '../../permissions/resolve.js';
import { Permissions } from '../../permissions/rules.js';
import { KIND, type AppKind } from '../types.js';

export const LOGS_DOCTYPE = 'io.cozy.apps.logs';
const LEVELS: Record<string, 'debug' | 'info' | 'warn' | 'error' | 'fatal'> = { debug: 'debug', info: 'info', warn: 'warn', warning: 'warn', error: 'error', critical: 'fatal' };

const schema = (kind: AppKind): RouteSchema => ({
  summary: `Writes a ${kind === 'webapp' ? 'web app' : 'konnector'}'s log lines to the server log`, tags: ['apps'],
  params: params({ slug: 'The slug (an app token logs under its own)' }),
  querystring: query({ job_id: 'The job the lines belong to', version: 'The code version' }),
  body: {
    type: 'array', maxItems: 1000, errorMessage: 'send [{"timestamp": "…", "level": "info", "msg": "…"}] (1000 lines at most)',
    items: { type: 'object', required: ['level', 'msg'], properties: { timestamp: { type: 'string' }, level: { type: 'string' }, msg: { type: 'string', maxLength: 10_000 } } },
  },
  response: { 204: noContent('Logged') },
});

type Req = FastifyRequest<{ Params: { slug: string }; Querystring: { job_id?: string; version?: string }; Body: Array<{ timestamp?: string; level: string; msg: string }> }>;

export function registerLogsRoutes(scope: FastifyInstance, deps: { perms: PermissionResolver }, kind: AppKind): void {
  scope.post(`${KIND[kind].route}/:slug/logs`, { schema: schema(kind) }, async (req: Req, reply) => {
    const set = await deps.perms.forRequest(instanceOf(req), req);
    if (!Permissions.allowsWholeType(set, 'POST', LOGS_DOCTYPE)) throw new Forbidden(`this token cannot write logs: it needs POST on ${LOGS_DOCTYPE}`);
    const bad = req.body.find((l) => !Object.hasOwn(LEVELS, l.level));
    if (bad) throw new UnprocessableEntity(`invalid level "${bad.level.slice(0, 20)}": debug, info, warning, error or critical`);
    const slug = (set.type === 'app' || set.type === 'konnector') && set.sourceId ? set.sourceId.slice(set.sourceId.indexOf('/') + 1) : req.params.slug;
    const log = req.log.child({ [kind === 'webapp' ? 'app' : 'konnector']: slug, job_id: req.query.job_id, version: req.query.version });
    for (const line of req.body) log[LEVELS[line.level]!]({ timestamp: line.timestamp }, line.msg);
    return reply.code(204).send();
  });
}
