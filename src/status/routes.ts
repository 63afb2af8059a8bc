/** GET /status (dependency checks with latencies) and GET /version, as cozy-stack. */
import type { FastifyInstance } from 'fastify';
import { readFileSync } from 'node:fs';
import { noContent, type JsonSchema, type RouteSchema } from '../common/schemas.js';

export interface StatusCheck {
  name: string;
  check(): Promise<number>;
}

export interface StatusReport {
  status: 'OK' | 'KO';
  message: string;
  latency: Record<string, string>;
  [dependency: string]: unknown;
}

export async function runStatus(checks: StatusCheck[]): Promise<StatusReport> {
  const report: StatusReport = { status: 'OK', message: 'OK', latency: {} };
  await Promise.all(
    checks.map(async (c) => {
      const start = performance.now();
      try {
        const ms = await Promise.race([
          c.check(),
          new Promise<number>((_, reject) => setTimeout(() => reject(new Error('timed out after 5 s')), 5000).unref()),
        ]);
        report[c.name] = 'healthy';
        report.latency[c.name] = `${ms.toFixed(3)}ms`;
      } catch (err) {
        report[c.name] = `unhealthy: ${(err as Error).message}`;
        report.latency[c.name] = `${(performance.now() - start).toFixed(3)}ms`;
        report.status = 'KO';
      }
    }),
  );
  const failing = checks.map((c) => c.name).filter((name) => report[name] !== 'healthy');
  if (failing.length) report.message = `${failing.join(', ')} ${failing.length > 1 ? 'are' : 'is'} unhealthy`;
  return report;
}

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

export function versionInfo(dev: boolean) {
  return { version: pkg.version, build_mode: dev ? 'development' : 'production', build_time: '', runtime_version: process.version };
}

const report = (description: string): JsonSchema => ({
  description, type: 'object',
  properties: { status: { type: 'string', enum: ['OK', 'KO'] }, message: { type: 'string' }, latency: { type: 'object', additionalProperties: { type: 'string' } } },
  // one field per dependency: "healthy" or "unhealthy: <why>"
  additionalProperties: { type: 'string' },
  example: { status: 'OK', message: 'OK', registry: 'healthy', fs: 'healthy', latency: { registry: '0.120ms', fs: '0.310ms' } },
});
const tags = ['status'];
export const STATUS_SCHEMAS = {
  status: {
    summary: 'Checks every dependency (registry, file system, jobs, sessions, docs, SMTP): 200 OK or 502 KO naming the failing ones, with latencies', tags,
    response: { 200: report('Every dependency is healthy'), 502: report('A dependency is down: message names it') },
  },
  version: {
    summary: 'The server version, build mode and Node version', tags,
    response: { 200: { type: 'object', properties: { version: { type: 'string' }, build_mode: { type: 'string' }, build_time: { type: 'string' }, runtime_version: { type: 'string' } } } },
  },
  connectionCheck: { summary: 'Answers 204: lets a client test its connectivity', tags, response: { 204: noContent() } },
} satisfies Record<string, RouteSchema>;

/** cozy-stack answers /status and /version with and without the trailing slash (its probes use /status/). */
export const WITH_SLASH = (path: string): string[] => [path, `${path}/`];

export function registerStatusRoutes(app: FastifyInstance, checks: StatusCheck[], dev: boolean): void {
  for (const path of WITH_SLASH('/status')) {
    app.get(path, { schema: STATUS_SCHEMAS.status }, async (_req, reply) => {
      const report = await runStatus(checks);
      // 502 when a dependency is down, as cozy-stack (web/status): existing probes and clients expect it
      return reply.code(report.status === 'OK' ? 200 : 502).send(report);
    });
  }
  for (const path of WITH_SLASH('/version')) app.get(path, { schema: STATUS_SCHEMAS.version }, async () => versionInfo(dev));
  app.get('/connection_check', { schema: STATUS_SCHEMAS.connectionCheck }, async (_req, reply) => reply.code(204).send());
}
