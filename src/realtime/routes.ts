/**
 * /realtime as cozy-stack's web/realtime (docs/realtime.md): the io.cozy.websocket WebSocket at
 * GET /realtime/, POST /realtime/:doctype/:id for a NOTIFIED event that is not persisted, and Hearth's
 * SSE stream at GET /realtime/sse. The instance comes from the Host header (public.ts's onRequest hook
 * runs before the upgrade); an unknown host gets a plain HTTP 404 and no WebSocket.
 */
import websocket from '@fastify/websocket';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { BadRequest, Forbidden } from '../common/errors.js';
import { noContent, openObject, params, query, type RouteSchema } from '../common/schemas.js';
import { instanceOf } from '../data/http/context.js';
import { validateDoctype, validateLocalId } from '../data/doctype.js';
import { docFetcher, Permissions } from '../permissions/rules.js';
import { SseStreams } from './sse.js';
import { REALTIME_DEFAULTS, WsGateway, type GatewayDeps, type RealtimeOptions } from './ws.js';

export const PROTOCOL = 'io.cozy.websocket';
/** A NOTIFIED document is sent to every subscriber: keep it small. */
const NOTIFY_BODY_LIMIT = 256 * 1024;

export interface RealtimeRoutesDeps extends GatewayDeps {
  /** Limits and beats (REALTIME_DEFAULTS are cozy-stack's); tests shorten them. */
  options?: Partial<RealtimeOptions>;
}

const tags = ['realtime'];
const SCHEMAS = {
  websocket: {
    summary: 'The realtime WebSocket (Upgrade: websocket, subprotocol io.cozy.websocket): AUTH, then SUBSCRIBE to doctypes or documents', tags,
    description: 'Without an Upgrade, a 400 saying how to connect.',
    response: { 101: { description: 'Switching protocols: the WebSocket is open', type: 'null' } },
  },
  sse: {
    summary: 'The same events as Server-Sent Events, for clients without WebSockets', tags,
    querystring: query({ types: { type: 'array', items: { type: 'string' }, description: 'Subscriptions: <doctype> or <doctype>/<id>, comma-separated or repeated' } }),
    response: { 200: { description: 'An event stream', content: { 'text/event-stream': { schema: { type: 'string', 'x-serialize': false } } } } },
  },
  notify: {
    summary: 'Sends a NOTIFIED event to the subscribers (not stored; needs POST on the document)', tags,
    params: params(['doctype', 'id']),
    body: openObject('The document to send', { errorMessage: 'the body is the document to send, as a JSON object (Content-Type: application/json)' }),
    response: { 204: noContent('Sent') },
  },
} satisfies Record<string, RouteSchema>;

const isUpgrade = (req: FastifyRequest) => typeof req.headers.upgrade === 'string' && /\bupgrade\b/i.test(String(req.headers.connection ?? ''));

export async function registerRealtimeRoutes(app: FastifyInstance, deps: RealtimeRoutesDeps): Promise<void> {
  const opts: RealtimeOptions = { ...REALTIME_DEFAULTS, ...deps.options };
  const gateway = new WsGateway(deps, opts);
  const sse = new SseStreams(deps, opts);
  await app.register(websocket, {
    options: {
      maxPayload: opts.maxMessageBytes,
      clientTracking: false,
      perMessageDeflate: false,
      // as cozy-stack: io.cozy.websocket when the client asks for it; a client asking for none is served too
      handleProtocols: (protocols) => (protocols.has(PROTOCOL) ? PROTOCOL : false),
    },
    // ws has already closed the socket (1009 for a message over the limit, 1002 for a protocol error)
    errorHandler: (err, socket, req) => {
      req.log.debug({ err }, 'realtime websocket error');
      if (socket.readyState === socket.OPEN) socket.close(1011, 'internal error');
    },
    preClose: (done) => {
      gateway.shutdown();
      sse.shutdown();
      done();
    },
  });

  // An upgrade answered in plain HTTP (unknown host, no token, no such route) must not keep its socket:
  // no HTTP request can follow on it. @fastify/websocket only drops those that reached its own hook.
  app.addHook('onResponse', async (req) => {
    if (isUpgrade(req) && !req.ws) req.raw.socket.destroy();
  });

  app.route({
    method: 'GET',
    url: '/realtime/',
    schema: SCHEMAS.websocket,
    handler: async () => {
      throw new BadRequest(`GET /realtime/ is a WebSocket: connect with Upgrade: websocket and the subprotocol ${PROTOCOL}, or use GET /realtime/sse`);
    },
    wsHandler: (socket, req) => {
      const cookie = req.headers.cookie;
      gateway.accept(socket, instanceOf(req), typeof cookie === 'string' ? cookie : undefined);
    },
  });

  app.get('/realtime/sse', { schema: SCHEMAS.sse }, (req, reply) => sse.open(req, reply));

  app.post<{ Params: { doctype: string; id: string }; Body: Record<string, unknown> }>('/realtime/:doctype/:id', { bodyLimit: NOTIFY_BODY_LIMIT, schema: SCHEMAS.notify }, async (req, reply) => {
    const instance = instanceOf(req);
    const doctype = validateDoctype(req.params.doctype);
    const id = validateLocalId(req.params.id);
    const set = await deps.perms.forRequest(instance, req);
    const doc = { ...req.body, _id: id };
    if (!Permissions.allowsDoc(set, 'POST', doctype, docFetcher(doc))) {
      throw new Forbidden(`this token has no POST right on ${doctype}/${id}: sending a NOTIFIED event needs it, on the doctype or on that document`);
    }
    deps.hub.notify(instance.domain, doctype, id, doc);
    return reply.code(204).send();
  });
}
