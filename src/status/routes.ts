/** GET /status (dependency checks with latencies) and GET /version, as cozy-stack. */
import type { FastifyInstance } from 'fastify';
import { readFileSync } from 'node:fs';

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

export function registerStatusRoutes(app: FastifyInstance, checks: StatusCheck[], dev: boolean): void {
  app.get('/status', async (_req, reply) => {
    const report = await runStatus(checks);
    // 502 when a dependency is down, as cozy-stack (web/status): existing probes and clients expect it
    return reply.code(report.status === 'OK' ? 200 : 502).send(report);
  });
  app.get('/version', async () => versionInfo(dev));
  app.get('/connection_check', async (_req, reply) => reply.code(204).send());
}
