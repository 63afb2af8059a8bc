/**
 * The import routes of an instance (cozy-stack web/move/move.go): `POST /move/imports/precheck` and `POST /move/imports`
 * (POST on the whole io.cozy.imports), the waiting page `GET /move/importing` and its WebSocket
 * `GET /move/importing/realtime`, which says `{"redirect": "<instance>/auth/login"}` once the instance is unblocked.
 * Registered after the realtime routes (their WebSocket plugin serves this one too).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { BadRequest, Forbidden } from '../../common/errors.js';
import { content, noContent, openObject, type RouteSchema } from '../../common/schemas.js';
import type { Instance } from '../../instances/types.js';
import type { PermissionResolver } from '../../permissions/resolve.js';
import { Permissions } from '../../permissions/rules.js';
import { isBlocked, type MoveStateStore } from '../state.js';
import type { MoveFrom } from '../types.js';
import { importingPage } from './page.js';
import type { Imports } from './service.js';

export const IMPORTS_DOCTYPE = 'io.cozy.imports';

export interface ImportRoutesDeps {
  imports: Imports;
  perms: PermissionResolver;
  moveStates: Pick<MoveStateStore, 'get'>;
  /** How often the waiting page's WebSocket looks whether the import is over (ms). */
  pollMs?: number;
}

const tags = ['move'];
const body = { type: 'object', required: ['data'], properties: { data: { type: 'object', required: ['attributes'], properties: { attributes: { type: 'object', required: ['url'], properties: {
  url: { type: 'string', maxLength: 4096 },
  vault: { type: 'boolean' },
  // during a move (cozy-move.md §3 step 5): the source, for finalize/abort once the import is over
  move_from: { type: 'object', required: ['url', 'token'], additionalProperties: false, properties: { url: { type: 'string', maxLength: 2048, pattern: '^https?://' }, token: { type: 'string', minLength: 1, maxLength: 8192 } } },
} } } } } };
const SCHEMAS: Record<string, RouteSchema> = {
  precheck: { summary: 'Checks that an export link can be imported into this instance', tags, body, response: { 204: noContent('The export can be imported') } },
  start: { summary: 'Replaces the data of this instance with an export: the instance is blocked until it is done', tags, body, response: { 303: noContent('The import started: see /move/importing') } },
  page: { summary: 'The waiting page of an instance that imports data (or is being moved)', tags, response: { 200: content('An HTML page', ['text/html']) } },
  realtime: { summary: 'WebSocket (io.cozy.websocket): {"redirect": "…/auth/login"} once the import is over', tags, response: { 200: openObject('A WebSocket') } },
};

const instanceOf = (req: FastifyRequest): Instance => {
  if (!req.instance) throw new BadRequest('no instance');
  return req.instance;
};

type Body = { data: { attributes: { url: string; vault?: boolean; move_from?: MoveFrom } } };

export function registerImportRoutes(app: FastifyInstance, deps: ImportRoutesDeps): void {
  const allowed = async (req: FastifyRequest): Promise<Instance> => {
    const instance = instanceOf(req);
    const set = await deps.perms.forRequest(instance, req);
    if (!Permissions.allowsWholeType(set, 'POST', IMPORTS_DOCTYPE)) throw new Forbidden(`importing needs a POST right on the whole ${IMPORTS_DOCTYPE} doctype`);
    return instance;
  };
  app.post<{ Body: Body }>('/move/imports/precheck', { schema: SCHEMAS.precheck! }, async (req, reply) => {
    const instance = await allowed(req);
    await deps.imports.precheck(instance, req.body.data.attributes.url);
    return reply.code(204).send();
  });
  app.post<{ Body: Body }>('/move/imports', { schema: SCHEMAS.start! }, async (req, reply) => {
    const instance = await allowed(req);
    const { url, vault, move_from } = req.body.data.attributes;
    const { manifestUrl } = await deps.imports.precheck(instance, url);
    // the target of a move waits in `moving` (POST /move/importing) for its source's export
    if (move_from) await deps.imports.start(instance, { manifest_url: manifestUrl, vault: vault ?? false, move_from }, 'moving');
    else await deps.imports.start(instance, { manifest_url: manifestUrl });
    return reply.code(303).header('Location', '/move/importing').send();
  });
  app.get('/move/importing', { schema: SCHEMAS.page! }, async (req, reply) => {
    const instance = instanceOf(req);
    const state = await deps.moveStates.get(instance.id);
    const scheme = req.protocol === 'https' ? 'https' : 'http';
    const { html, csp } = importingPage({
      // the source of a move waits for its export: its data is being moved to the target
      locale: instance.locale, host: state?.status === 'exporting' && state.peer ? new URL(state.peer).host : instance.domain,
      moving: state?.status === 'moving' || state?.status === 'exporting', done: !isBlocked(state), loginUrl: `${scheme}://${instance.domain}/auth/login`,
    });
    return reply.header('Content-Security-Policy', csp).header('Cache-Control', 'no-store').type('text/html; charset=utf-8').send(html);
  });
  app.route({
    method: 'GET', url: '/move/importing/realtime', schema: SCHEMAS.realtime!,
    handler: async () => {
      throw new BadRequest('GET /move/importing/realtime is a WebSocket: connect with Upgrade: websocket and the subprotocol io.cozy.websocket');
    },
    wsHandler: (socket, req) => {
      const instance = instanceOf(req);
      const scheme = req.protocol === 'https' ? 'wss' : 'ws';
      const redirect = `${scheme === 'wss' ? 'https' : 'http'}://${instance.domain}/auth/login`;
      let timer: NodeJS.Timeout | null = null;
      const check = async () => {
        const state = await deps.moveStates.get(instance.id).catch(() => undefined);
        if (state === undefined || isBlocked(state)) return;
        if (timer) clearInterval(timer);
        timer = null;
        socket.send(JSON.stringify({ redirect }));
        socket.close(1000, 'done');
      };
      timer = setInterval(() => void check(), deps.pollMs ?? 1000);
      socket.on('close', () => {
        if (timer) clearInterval(timer);
      });
      void check();
    },
  });
}
