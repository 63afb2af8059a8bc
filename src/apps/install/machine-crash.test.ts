/**
 * A start after a machine crash on the embedded engines (apps/install/reconcile.ts): an install's intent, code reference
 * and triggers are committed without their fsync, its app doc with its own; a power loss may keep the doc and lose the
 * rest, or lose the doc and keep a trigger or a reference. The code store tells the machine stopped under it (another
 * boot than the one it was left open on), and the start aligns every app with its doc, as the journal would have: the
 * lost trigger made again with its id, the lost reference given back (the code not collected meanwhile), the leftovers
 * of an install whose doc was lost (a trigger, a reference, an `installing` doc) removed.
 */
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPackageServer, type PackageServer } from '../../../test/helpers/app-packages.js';
import { testConfig } from '../../../test/helpers/hearth.js';
import { createHearth } from '../../server/compose.js';
import { findApp } from '../repo.js';

const MANIFEST = { slug: 'sturdy', type: 'webapp', version: '1.0.0', permissions: { notes: { type: 'io.cozy.notes' } }, services: { tidy: { type: 'node', file: 'tidy.js', trigger: '@cron 0 0 3 * * *' } } };
let pkgs: PackageServer;
const dataDir = mkdtempSync(join(tmpdir(), 'hearth-machine-crash-'));
beforeAll(async () => {
  pkgs = await startPackageServer();
});
afterAll(async () => {
  await pkgs.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const open = () => createHearth(testConfig(dataDir), pino({ level: 'silent' }));
const serviceTriggers = async (hearth: Awaited<ReturnType<typeof open>>, domain: string) =>
  (await hearth.jobs.scheduler.list(domain, { workers: ['service'] })).map((t) => [t._id, (t.message as { slug: string }).slug]);

describe('a start after a machine crash', () => {
  it('aligns every app with its doc: lost trigger and reference given back, leftovers of an install whose doc was lost removed', async () => {
    const url = await pkgs.add('sturdy', { 'manifest.webapp': MANIFEST, 'index.html': '<html>sturdy</html>', 'tidy.js': '' });
    const sha256 = createHash('sha256').update(readFileSync(join(pkgs.dir, 'sturdy.tar.gz'))).digest('hex');
    const domain = 'mc.crash.test';
    let hearth = await open();
    const instance = await hearth.registry.create({ domain });
    expect((await (await hearth.installer.install(instance, 'webapp', 'sturdy', { source: `${url}#${sha256}` })).done).error).toBeNull();
    const [trigger] = await serviceTriggers(hearth, domain);
    // what survives of an install whose doc commit was lost: its trigger, its reference; and a doc left `installing`
    await hearth.jobs.scheduler.create(domain, { type: '@cron', arguments: '0 0 4 * * *', worker: 'service', message: { slug: 'ghost', name: 'x' } });
    await hearth.appCode.acquire({ instanceId: instance.id, kind: 'webapp', slug: 'ghost', sha256 }, async () => undefined);
    await hearth.storeOf(instance).put('io.cozy.apps', { _id: 'io.cozy.apps/half', slug: 'half', type: 'webapp', state: 'installing', source: url, version: '', checksum: '', created_at: new Date(0).toISOString(), updated_at: new Date(0).toISOString() });
    await hearth.close();
    // the power loss: sturdy's reference and trigger lost (not fsynced), its doc kept; the store was open on another boot
    const code = new Database(join(dataDir, 'apps-code.sqlite'));
    expect(code.prepare("DELETE FROM refs WHERE instance_id = ? AND slug = 'sturdy'").run(instance.id).changes).toBe(1);
    code.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('running_boot_id', 'a boot before this one')").run();
    code.close();
    const jobs = new Database(join(dataDir, 'jobs.sqlite'));
    expect(jobs.prepare('DELETE FROM triggers WHERE id = ?').run(trigger![0]).changes).toBe(1);
    jobs.close();
    hearth = await open();
    try {
      expect(hearth.appCode.intentsLost).toBe(false);
      expect(await serviceTriggers(hearth, domain)).toEqual([trigger]);
      expect((await findApp(hearth.storeOf(instance), 'webapp', 'sturdy'))?.state).toBe('ready');
      expect(await findApp(hearth.storeOf(instance), 'webapp', 'half')).toBeNull();
      await expect.poll(() => hearth.appCode.refsStale).toBe(false);
      expect((await hearth.appCode.refs({ instanceId: instance.id })).map((r) => [r.slug, r.sha256])).toEqual([['sturdy', sha256]]);
      expect(await hearth.appCode.has(sha256)).toBe(true);
    } finally {
      await hearth.close();
    }
    // the next start, on this boot: nothing to align
    hearth = await open();
    await hearth.close();
  }, 60_000);
});
