import { createRequire } from 'node:module';
import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';
import { pino, type DestinationStream, type Logger } from 'pino';
import type PinoPretty from 'pino-pretty';
import type { HearthConfig } from '../config/types.js';

/** Fields whose value is a secret, wherever they appear at the top or one level down of a logged object. */
const SECRET_FIELDS = ['passphrase', 'password', 'token', 'access_token', 'refresh_token', 'registration_access_token', 'client_secret', 'session_cookie'];
const SECRET_HEADERS = ['authorization', 'cookie', '["set-cookie"]'];

/** Query parameters that carry a secret (`?bearer_token=` as PouchDB/EventSource send it, OAuth codes). */
const SECRET_QUERY = /([?&](?:bearer_token|access_token|access_code|code|token|registerToken|sharecode)=)[^&#]*/gi;
/**
 * Path segments that are a secret by themselves (a link that works without a token): the 10-minute download and
 * archive links, the thumbnails' link secret, and a webhook's id (anyone who knows it can run the trigger).
 */
const SECRET_PATHS = /^((?:\/files\/(?:downloads|archive)|\/files\/[^/?#]+\/thumbnails|\/jobs\/webhooks)\/)[^/?#]+/i;
export const redactUrl = (url: string): string => url.replace(SECRET_PATHS, '$1[redacted]').replace(SECRET_QUERY, '$1[redacted]');

/** Redaction paths: headers of requests/responses however they are logged, and secret fields. */
export const REDACT_PATHS = [
  ...['req.headers', 'res.headers', 'headers', 'request.headers', 'reply.headers', 'err.headers'].flatMap((h) => SECRET_HEADERS.map((k) => `${h}${k.startsWith('[') ? '' : '.'}${k}`)),
  ...SECRET_FIELDS.flatMap((f) => [f, `*.${f}`]),
];

/** Human-readable logs: `log.pretty`, or in --dev when it is not set. */
export const prettyLogs = (config: Pick<HearthConfig, 'dev' | 'log'>): boolean => config.log.pretty ?? config.dev;

/** Structured logs (JSON lines, or human-readable ones with `prettyLogs`); secrets (tokens, passphrases, cookies) are never written. */
export function createLogger(config: HearthConfig, destination?: DestinationStream): Logger {
  const opts = {
    level: config.log.level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers: {
      // what Fastify logs for each request: never the headers, and the URL without its secret query parameters
      req: (req: { method?: string; url?: string; headers?: Record<string, unknown>; socket?: { remoteAddress?: string } }) => ({
        method: req.method,
        url: redactUrl(String(req.url ?? '')),
        host: req.headers?.host,
        remoteAddress: req.socket?.remoteAddress,
      }),
    },
  };
  if (prettyLogs(config)) {
    const colorize = destination === undefined && process.stdout.isTTY === true;
    // loaded only for pretty logs (~30 ms and ~9 MB that JSON logs do not need)
    const pinoPretty = createRequire(import.meta.url)('pino-pretty') as typeof PinoPretty;
    const pretty = pinoPretty({ destination: destination ?? 1, colorize, sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,reqId,server', singleLine: true });
    return pino(opts, pretty);
  }
  return destination ? pino(opts, destination) : pino(opts);
}

/** With pretty logs, one line per request once it is answered (`GET /path → 200 in 1.2 ms`) instead of Fastify's two. */
class OneLinePerRequest extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (this.isLogDisabled(request)) return;
    const line = `${request.method} ${request.headers.host ?? ''}${redactUrl(request.url)} → ${reply.statusCode} in ${reply.elapsedTime.toFixed(1)} ms`;
    if (error) reply.log.error({ err: error }, line);
    else reply.log.info(line);
  }
}

/** The Fastify `logController` option for this configuration (undefined: Fastify's own JSON request logs). */
export const logControllerFor = (config: Pick<HearthConfig, 'dev' | 'log'>): LogController | undefined => (prettyLogs(config) ? new OneLinePerRequest() : undefined);
