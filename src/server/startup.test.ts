import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../test/helpers/ports.js';

const dir = mkdtempSync(join(tmpdir(), 'hearth-startup-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('start-up', () => {
  it('serves without loading sharp (libvips, ~27 MB of idle RSS): images load it on first use', () => {
    const out = execFileSync(process.execPath, ['--import', 'tsx', 'test/fixtures/startup-main.ts', dir], { encoding: 'utf8' });
    const { status, libraries } = JSON.parse(out) as { status: number; libraries: string[] };
    expect(status).toBe(200);
    expect(libraries.some((l) => l.includes('better_sqlite3'))).toBe(true); // the probe sees native libraries
    expect(libraries.filter((l) => /sharp|vips/.test(l))).toEqual([]);
  }, 60_000);

  it('hearth serve answers its first /status without loading what only rare requests need (Swagger UI, the OpenAPI generator, YAML, pretty logs)', async () => {
    const [port, adminPort] = [await freePort(), await freePort()];
    const out = execFileSync(process.execPath, ['--import', 'tsx', 'test/fixtures/serve-modules-main.ts', join(dir, 'serve'), String(port), String(adminPort)], {
      encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'],
      env: { ...process.env, HEARTH_ADMIN_PASSPHRASE: 'a long enough admin passphrase', HEARTH_MAIL_MODE: 'outbox' },
    });
    const { status, packages } = JSON.parse(out.trim().split('\n').at(-1)!) as { status: number; packages: string[] };
    expect(status).toBe(200);
    expect(packages).toContain('fastify'); // the probe sees the packages loaded
    // /openapi.json and /docs load theirs on first use (ops/openapi.ts, ops/admin-routes.ts); yaml is read for a config file only
    expect(packages.filter((p) => ['@fastify/swagger', '@fastify/swagger-ui', '@fastify/static', 'yaml', 'pino-pretty'].includes(p))).toEqual([]);
  }, 60_000);
});
