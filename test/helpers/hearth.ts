/**
 * Starts a real Hearth (both servers, real SQLite files in a temporary directory)
 * on private loopback ports, with two instances: `localhost:<port>` and
 * `127.0.0.1:<port>` (both resolve to loopback for Node clients such as PouchDB).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { createHearth, type Hearth, type HearthOptions } from '../../src/server/compose.js';
import type { HearthConfig } from '../../src/config/types.js';
import { DEFAULTS } from '../../src/config/schema.js';
import type { Instance } from '../../src/instances/types.js';
import { applyEnginesUnderTest } from './engines.js';

/**
 * The defaults, on private ports, silent, with mail written to the outbox, and without the package's built-in registry
 * (dist/registry, filled by `npm run build`): a test that wants built-in apps names its own folder in `apps.builtinRegistry`.
 */
export function testConfig(dataDir: string, overrides: Partial<HearthConfig> = {}): HearthConfig {
  const d = structuredClone(DEFAULTS);
  const config: HearthConfig = {
    ...d,
    dataDir,
    server: { ...d.server, port: 0 },
    admin: { ...d.admin, port: 0, passphrase: 'admin-secret' },
    log: { ...d.log, level: 'silent' },
    mail: { ...d.mail, mode: 'outbox' },
    ...overrides,
  };
  if (config.apps.builtinRegistry === DEFAULTS.apps.builtinRegistry) config.apps = { ...config.apps, builtinRegistry: null };
  // the engines of the vitest project (test/helpers/engines.ts): embedded by default
  return applyEnginesUnderTest(config, overrides, basename(dataDir).replace(/^hearth-test-/, ''));
}

export interface Res {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

export interface TestHearth {
  hearth: Hearth;
  port: number;
  url: string;
  domain: string;
  instance: Instance;
  otherDomain: string;
  other: Instance;
  dataDir: string;
  cliToken(scope: string, instance?: Instance): Promise<string>;
  req(method: string, path: string, opts?: { token?: string; body?: unknown; raw?: string | Buffer; headers?: Record<string, string>; host?: string }): Promise<Res>;
  /** Stops the servers and starts them again on the same port and data (a clean restart). */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export async function startTestHearth(overrides: Partial<HearthConfig> = {}, opts: HearthOptions = {}): Promise<TestHearth> {
  const dataDir = mkdtempSync(join(tmpdir(), 'hearth-test-'));
  const hearth = await createHearth(testConfig(dataDir, overrides), pino({ level: 'silent' }), opts);
  await hearth.publicApp.listen({ host: '127.0.0.1', port: 0 });
  const port = (hearth.publicApp.server.address() as AddressInfo).port;
  const domain = `localhost:${port}`;
  const otherDomain = `127.0.0.1:${port}`;
  const instance = await hearth.registry.create({ domain, passphrase: 'owner-pass' });
  const other = await hearth.registry.create({ domain: otherDomain });
  const config = testConfig(dataDir, overrides);
  const t: TestHearth = {
    hearth, port, url: `http://${domain}`, domain, instance, otherDomain, other, dataDir,
    cliToken: (scope, inst = instance) => t.hearth.tokens.issue(inst, { aud: 'cli', sub: 'test', scope }),
    req: (method, path, opts = {}) => rawRequest(port, method, path, { host: domain, ...opts }),
    async restart() {
      await t.hearth.close();
      t.hearth = await createHearth(config, pino({ level: 'silent' }), opts);
      await t.hearth.publicApp.listen({ host: '127.0.0.1', port });
    },
    async close() {
      await t.hearth.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return t;
}

export function rawRequest(
  port: number,
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; raw?: string | Buffer; headers?: Record<string, string>; host: string },
): Promise<Res> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { host: opts.host, ...opts.headers };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    let payload: Buffer | undefined;
    if (opts.raw !== undefined) payload = Buffer.from(opts.raw);
    else if (opts.body !== undefined) {
      payload = Buffer.from(JSON.stringify(opts.body));
      headers['content-type'] ??= 'application/json';
    }
    // Node sends a DELETE (or OPTIONS) body chunked, which servers may refuse: say its length, as clients do
    if (payload && headers['content-length'] === undefined && headers['transfer-encoding'] === undefined) headers['content-length'] = String(payload.length);
    const r = httpRequest({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = undefined;
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          body = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body });
      });
    });
    r.on('error', reject);
    if (payload) r.end(payload);
    else r.end();
  });
}
