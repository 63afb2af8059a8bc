/**
 * Destroying an instance is durable and resumable, and nothing of it is keyed by its domain: a destroy cut short
 * (the job database fails between the steps, or the process is killed -9) is finished at the next start, and a new instance of the same domain
 * inherits none of the old owner's data, jobs or triggers. Rows of a jobs.sqlite written before jobs were keyed by
 * instance get their instance's id, or are deleted when no instance has their domain any more.
 */
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestHearth, testConfig, type TestHearth } from '../../test/helpers/hearth.js';
import { pino } from 'pino';
import { createHearth } from '../server/compose.js';
import { ROOT } from '../../test/helpers/files.js';
import { childScript } from '../../test/helpers/child-script.js';

let h: TestHearth | null = null;
afterEach(async () => {
  await h?.close();
  h = null;
});

const GONE = 'gone.example.org';
const trigger = (attributes: Record<string, unknown>) => ({ data: { attributes: { worker: 'log', ...attributes } } });

/** Rows of jobs.sqlite naming the id or the domain (read with its own connection). */
function jobRows(t: TestHearth | string, id: string, domain: string): number {
  const db = new Database(join(typeof t === 'string' ? t : t.dataDir, 'jobs.sqlite'), { readonly: true });
  try {
    const count = (table: string) => db.prepare(`SELECT count(*) FROM ${table} WHERE instance_id = ? OR domain = ?`).pluck().get(id, domain) as number;
    return count('jobs') + count('triggers');
  } finally {
    db.close();
  }
}

describe('destroying an instance', () => {
  it('is finished at the next start when it was cut short, and a new instance of the domain inherits nothing', async () => {
    h = await startTestHearth();
    const t = h;
    const gone = await t.hearth.registry.create({ domain: GONE });
    const token = await t.cliToken('io.cozy.files io.cozy.triggers:ALL:log:worker io.cozy.jobs:POST,GET:log:worker', gone);
    expect((await t.req('POST', `/files/${ROOT}?Type=file&Name=private.txt`, { token, raw: 'the old owner\'s', host: GONE })).status).toBe(201);
    expect((await t.req('POST', '/jobs/triggers', { token, host: GONE, body: trigger({ type: '@cron', arguments: '0 0 3 * * *', message: 'nightly' }) })).status).toBe(201);
    expect((await t.req('POST', '/jobs/triggers', { token, host: GONE, body: trigger({ type: '@event', arguments: 'io.cozy.files', message: 'on files' }) })).status).toBe(201);
    expect((await t.req('POST', '/jobs/queue/log', { token, host: GONE, body: { data: { attributes: { arguments: 'x' } } } })).status).toBe(202);
    const dir = join(t.dataDir, 'instances', gone.id);
    expect(existsSync(dir)).toBe(true);
    expect(jobRows(t, gone.id, GONE)).toBeGreaterThanOrEqual(3);

    // the job database fails between the first step (out of the registry) and the others
    await t.hearth.jobs.close();
    await expect(t.hearth.registry.destroy(GONE)).rejects.toThrow();
    expect(await t.hearth.registry.get(GONE)).toBeNull();
    expect(existsSync(dir)).toBe(true);
    expect(jobRows(t, gone.id, GONE)).toBeGreaterThanOrEqual(3);
    // the domain is not free while its destroy is pending
    await expect(t.hearth.registry.create({ domain: GONE })).rejects.toMatchObject({ status: 409 });

    await t.restart();
    expect(existsSync(dir)).toBe(false);
    expect(jobRows(t, gone.id, GONE)).toBe(0);
    expect(await t.hearth.registry.get(GONE)).toBeNull();
    const next = await t.hearth.registry.create({ domain: GONE });
    expect(next.id).not.toBe(gone.id);
    const fresh = await t.cliToken('io.cozy.files io.cozy.triggers:ALL:log:worker', next);
    expect((await t.req('GET', '/jobs/triggers?Worker=log', { token: fresh, host: GONE })).body.data).toEqual([]);
    expect((await t.req('GET', '/files/metadata?Path=/private.txt', { token: fresh, host: GONE })).status).toBe(404);
  });

  it('is finished at the next start after a kill -9 of the process between its steps', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'hearth-destroy-crash-'));
    try {
      const child = spawn(process.execPath, [childScript('test/fixtures/destroy-crash-main.ts'), dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
      const line = new Promise<string>((resolve) => createInterface({ input: child.stdout! }).once('line', resolve));
      const exit = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
      const { id } = JSON.parse(await line) as { id: string };
      expect(await exit).toBe('SIGKILL');
      expect(existsSync(join(dataDir, 'instances', id))).toBe(true);
      expect(jobRows(dataDir, id, GONE)).toBe(2);
      const hearth = await createHearth(testConfig(dataDir), pino({ level: 'silent' }));
      try {
        expect(existsSync(join(dataDir, 'instances', id))).toBe(false);
        expect(jobRows(dataDir, id, GONE)).toBe(0);
        const next = await hearth.registry.create({ domain: GONE });
        expect(await hearth.jobs.scheduler.list(next.domain, {})).toEqual([]);
        expect(await hearth.jobs.engine.broker.list(next.domain, { limit: 10 })).toEqual([]);
      } finally {
        await hearth.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('keys the rows of an older jobs.sqlite by instance id, and deletes those of a domain no instance has', async () => {
    h = await startTestHearth();
    const t = h;
    const token = await t.cliToken('io.cozy.triggers:ALL:log:worker');
    const kept = (await t.req('POST', '/jobs/triggers', { token, body: trigger({ type: '@cron', arguments: '0 0 3 * * *', message: 'kept' }) })).body.data.id as string;
    const old = (await t.req('POST', '/jobs/triggers', { token, body: trigger({ type: '@cron', arguments: '0 0 4 * * *', message: 'orphan' }) })).body.data.id as string;
    await t.hearth.close();
    // the file as the previous version wrote it: no instance_id, rows keyed by domain; one of a destroyed instance
    const db = new Database(join(t.dataDir, 'jobs.sqlite'));
    // nor the /data mirror's outbox (jobs/mirror.ts)
    for (const table of ['jobs', 'triggers']) for (const op of ['insert', 'update', 'delete']) db.exec(`DROP TRIGGER ${table}_mirror_${op}`);
    db.exec('DROP TABLE mirror_outbox');
    db.exec(`DROP INDEX jobs_instance; DROP INDEX triggers_instance;
      ALTER TABLE jobs DROP COLUMN instance_id; ALTER TABLE triggers DROP COLUMN instance_id;
      CREATE INDEX jobs_domain ON jobs (domain, worker, queued_at); CREATE INDEX triggers_domain ON triggers (domain, worker);`);
    db.prepare("UPDATE triggers SET doc = json_remove(doc, '$.instance_id')").run();
    db.prepare("UPDATE triggers SET domain = ?, doc = json_set(doc, '$.domain', ?) WHERE id = ?").run(GONE, GONE, old);
    db.close();
    t.hearth = await createHearth(t.hearth.config, pino({ level: 'silent' }));
    await t.hearth.publicApp.listen({ host: '127.0.0.1', port: t.port });
    const listed = (await t.req('GET', '/jobs/triggers?Worker=log', { token })).body.data as Array<{ id: string }>;
    expect(listed.map((d) => d.id)).toEqual([kept]);
    expect(jobRows(t, 'none', GONE)).toBe(0);
    const next = await t.hearth.registry.create({ domain: GONE });
    const fresh = await t.cliToken('io.cozy.triggers:ALL:log:worker', next);
    expect((await t.req('GET', '/jobs/triggers?Worker=log', { token: fresh, host: GONE })).body.data).toEqual([]);
  });
});
