/**
 * Processes starting together on one PostgreSQL (docs.engine postgres, coordination on Redis): each runs the whole
 * start path of `hearth serve` (createHearth: the shared tables, the jobs' schema and mirror, the recoveries, the
 * jobs' start), then a first use (an instance created through one, opened and logged into through every one). The
 * start-time DDL is applied once per database under one advisory lock (src/engines/pg-schema.ts), so no start fails
 * (the jobs' schema and the state's schema were created under two locks: one process's CREATE SCHEMA waited for the
 * other's and failed on the catalog's unique index) and a start beside running processes waits on none of their
 * writes (re-run on every start, CREATE INDEX IF NOT EXISTS, ALTER TABLE … IF NOT EXISTS and CREATE OR REPLACE TRIGGER
 * locked tables that the running processes write, in orders that deadlocked with their transactions).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawRequest, testConfig } from '../../test/helpers/hearth.js';
import { startPostgres, type PgServer } from '../../test/helpers/servers/postgres.js';
import { startRedis, type RedisServer } from '../../test/helpers/servers/redis.js';
import { derivePassphrase } from '../auth/passphrase.js';
import { createHearth, type Hearth } from './compose.js';

let postgres: PgServer;
let redis: RedisServer;
let databases = 0;

beforeAll(async () => {
  [postgres, redis] = await Promise.all([startPostgres({ database: 'postgres' }), startRedis()]);
});
afterAll(async () => {
  await Promise.all([postgres?.stop(), redis?.stop()]);
});

interface Proc { hearth: Hearth; dir: string }

/** A process's worth of Hearth on `url`, its own data folder, the coordination on Redis under `prefix`. */
async function start(url: string, prefix: string): Promise<Proc> {
  const dir = mkdtempSync(join(tmpdir(), 'hearth-cstart-'));
  try {
    const config = testConfig(dir, {
      docs: { engine: 'postgres', url, poolSize: 4 },
      coordination: { engine: 'redis', url: redis.url, prefix },
    });
    return { hearth: await createHearth(config, pino({ level: 'silent' })), dir };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

async function stopAll(procs: Proc[]): Promise<void> {
  await Promise.all(procs.map(async (p) => {
    await p.hearth.close();
    rmSync(p.dir, { recursive: true, force: true });
  }));
}

/** What a start's failures say (empty when every start succeeded); the started ones are closed. */
async function startTogether(n: number, url: string, prefix: string): Promise<{ procs: Proc[]; errors: string[] }> {
  const settled = await Promise.allSettled(Array.from({ length: n }, () => start(url, prefix)));
  const procs = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const errors = settled.flatMap((s) => (s.status === 'rejected' ? [String((s.reason as Error)?.message ?? s.reason)] : []));
  return { procs, errors };
}

/** Through every process: an instance created by the first, found and logged into by each (first uses of the shared tables). */
async function firstUse(procs: Proc[], round: number): Promise<void> {
  const domain = `round${round}.test`;
  await procs[0]!.hearth.registry.create({ domain, passphrase: 'owner-pass', kdfIterations: 1000 });
  const passphrase = await derivePassphrase('owner-pass', domain, 1000);
  await Promise.all(procs.map(async (p) => {
    if (!p.hearth.publicApp.server.listening) await p.hearth.publicApp.listen({ host: '127.0.0.1', port: 0 });
    const port = (p.hearth.publicApp.server.address() as AddressInfo).port;
    const login = await rawRequest(port, 'POST', '/auth/login', { host: domain, body: { passphrase }, headers: { accept: 'application/json' } });
    expect(login.status, login.text).toBe(200);
    expect((await p.hearth.registry.findByHost(domain))?.domain).toBe(domain);
  }));
}

describe('hearth processes starting together on one PostgreSQL', () => {
  it('all come up, round after round, on a fresh database', async () => {
    const failures: string[] = [];
    for (let round = 0; round < 3; round++) {
      const url = await postgres.database_url(`fresh_${++databases}`);
      const { procs, errors } = await startTogether(3, url, `r${databases}:`);
      try {
        failures.push(...errors.map((e) => `round ${round}: ${e}`));
        if (!errors.length) await firstUse(procs, round);
      } finally {
        await stopAll(procs);
      }
    }
    expect(failures).toEqual([]);
  });

  it('a process starting beside running ones waits on none of their table locks', async () => {
    const url = await postgres.database_url(`fresh_${++databases}`);
    const prefix = `r${databases}:`;
    const { procs, errors } = await startTogether(1, url, prefix);
    expect(errors).toEqual([]);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await firstUse(procs, 100);
      // what the running processes' writes hold: ROW EXCLUSIVE on every table, until their COMMIT
      const { rows } = await client.query<{ t: string }>(`SELECT format('%I.%I', schemaname, tablename) AS t FROM pg_tables
        WHERE schemaname NOT IN ('pg_catalog', 'information_schema')`);
      expect(rows.map((r) => r.t)).toEqual(expect.arrayContaining(['hearth.jobs', 'hearth.triggers', 'hearth.jobs_mirror_outbox', 'hearth.sessions', 'public.hearth_instance_engines']));
      await client.query('BEGIN');
      await client.query(`LOCK TABLE ${rows.map((r) => r.t).join(', ')} IN ROW EXCLUSIVE MODE`);
      // a lock wait would be a start stuck until the writers commit (or a deadlock with them): 15 s is "stuck"
      let timer: NodeJS.Timeout | undefined;
      const stuck = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('the start waited on a table lock')), 15_000)));
      const late = start(url, prefix);
      try {
        const proc = await Promise.race([late, stuck]);
        procs.push(proc);
        await Promise.race([firstUse(procs, 101), stuck]);
      } finally {
        clearTimeout(timer);
        await client.query('ROLLBACK');
        // a start that was stuck ends once the locks go: closed with the others
        const proc = await late.catch(() => null);
        if (proc && !procs.includes(proc)) procs.push(proc);
      }
    } finally {
      await client.end();
      await stopAll(procs);
    }
  }, 60_000);
});
