/**
 * Two hearth processes' worth of state on one PostgreSQL (docs.engine postgres): two Hearths, each with its own data
 * directory and its own pool, on one database. An instance created through one is served by the other; a session
 * opened through one is accepted by the other and, once revoked through one, refused by both; neither writes the
 * registry, sessions, WebDAV locks or built-in apps' state in its data directory.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { derivePassphrase } from '../auth/passphrase.js';
import { rawRequest, testConfig } from '../../test/helpers/hearth.js';
import { startPgState, type PgStateServer } from '../../test/helpers/pg-state.js';
import { createHearth, type Hearth } from './compose.js';

interface Process { hearth: Hearth; port: number; dir: string }
let pg: PgStateServer;
const processes: Process[] = [];

async function startProcess(url: string): Promise<Process> {
  const dir = mkdtempSync(join(tmpdir(), 'hearth-pgstate-'));
  const hearth = await createHearth(testConfig(dir, { docs: { engine: 'postgres', url, poolSize: 3 } }), pino({ level: 'silent' }));
  await hearth.publicApp.listen({ host: '127.0.0.1', port: 0 });
  const p = { hearth, port: (hearth.publicApp.server.address() as AddressInfo).port, dir };
  processes.push(p);
  return p;
}

beforeAll(async () => {
  pg = await startPgState();
});
afterAll(async () => {
  for (const p of processes) {
    await p.hearth.close();
    rmSync(p.dir, { recursive: true, force: true });
  }
  await pg.close();
});

describe('the server\'s state on PostgreSQL, shared by two processes', () => {
  it('serves an instance created through one from the other, and a session revoked through one is refused by both', async () => {
    const url = await pg.database();
    const [a, b] = [await startProcess(url), await startProcess(url)];
    const domain = `localhost:${a.port}`;
    const alias = `localhost:${b.port}`;
    const instance = await a.hearth.registry.create({ domain, aliases: [alias], passphrase: 'owner-pass', kdfIterations: 1000 });
    expect((await b.hearth.registry.findByHost(alias))?.id).toBe(instance.id);

    const derived = await derivePassphrase('owner-pass', domain, 1000);
    const login = await rawRequest(a.port, 'POST', '/auth/login', { host: domain, body: { passphrase: derived }, headers: { accept: 'application/json' } });
    expect(login.status, login.text).toBe(200);
    const cookie = ([login.headers['set-cookie'] ?? []].flat().find((c) => c.startsWith('cozysessid=')) ?? '').split(';')[0] as string;
    const current = (p: Process, host: string) => rawRequest(p.port, 'GET', '/settings/sessions/current', { host, headers: { cookie } });
    expect((await current(a, domain)).status).toBe(200);
    const throughB = await current(b, alias);
    expect(throughB.status, throughB.text).toBe(200);
    expect((await rawRequest(b.port, 'GET', '/settings/security-events', { host: alias, headers: { cookie } })).body.data[0].attributes.kind).toBe('login');

    expect((await rawRequest(b.port, 'DELETE', '/auth/login', { host: alias, headers: { cookie } })).status).toBe(204);
    expect((await current(a, domain)).status).toBe(401);
    expect((await current(b, alias)).status).toBe(401);

    for (const p of [a, b]) {
      for (const file of ['registry.sqlite', 'sessions.sqlite', 'dav-locks.sqlite', 'apps-builtin.sqlite', 'copies.sqlite']) expect(existsSync(join(p.dir, file)), file).toBe(false);
    }
  });
});
