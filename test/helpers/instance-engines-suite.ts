/**
 * The conformance suite of an InstanceEngines implementation (src/instances/engines.ts): the SQLite one and the
 * PostgreSQL one run it unchanged. `make` gives a fresh, empty store; a second call of `make` with the same `shared`
 * value gives another handle on the SAME storage (another process), for the races.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { InstanceEngines, MigrationRecord } from '../../src/instances/engines.js';

const newId = () => randomUUID().replace(/-/g, '');
export const migrationOf = (instanceId: string, to = { docs: 'postgres', blobs: 'local' }): MigrationRecord => ({
  instanceId, domain: `${instanceId.slice(0, 8)}.example.org`, from: { docs: 'sqlite', blobs: 'local' }, to, phase: 'running', startedAt: new Date().toISOString(),
});

export function describeInstanceEngines(name: string, make: (shared: string) => Promise<InstanceEngines>, done: (shared: string) => Promise<void>): void {
  describe(`InstanceEngines conformance: ${name}`, () => {
    let shared: string;
    let engines: InstanceEngines;
    const opened: InstanceEngines[] = [];
    const open = async () => {
      const e = await make(shared);
      opened.push(e);
      return e;
    };
    beforeEach(async () => {
      shared = newId();
      engines = await open();
    });
    afterEach(async () => {
      for (const e of opened.splice(0)) await e.close();
      await done(shared);
    });

    it('has no record for an unknown instance, keeps and replaces one, forgets it', async () => {
      const id = newId();
      expect(await engines.get(id)).toBeNull();
      await engines.set(id, { docs: 'postgres', blobs: 's3' });
      expect(await engines.get(id)).toEqual({ docs: 'postgres', blobs: 's3' });
      await engines.set(id, { docs: 'sqlite', blobs: 's3' });
      expect(await (await open()).get(id)).toEqual({ docs: 'sqlite', blobs: 's3' });
      await engines.beginMigration(migrationOf(id), null);
      await engines.remove(id);
      expect(await engines.get(id)).toBeNull();
      expect(await engines.migration(id)).toBeNull();
    });

    it('records a migration, switches the engines and the phase together, ends it', async () => {
      const id = newId();
      const record = migrationOf(id, { docs: 'postgres', blobs: 'swift' });
      expect(await engines.beginMigration(record, null)).toBe(true);
      expect(await engines.migration(id)).toEqual(record);
      expect(await engines.migrations()).toEqual([record]);
      expect(await engines.get(id)).toBeNull();
      await engines.switchMigration(id);
      expect(await engines.get(id)).toEqual({ docs: 'postgres', blobs: 'swift' });
      expect(await engines.migration(id)).toEqual({ ...record, phase: 'switched' });
      await expect(engines.switchMigration(id)).rejects.toThrow(/no running migration/);
      await engines.endMigration(id);
      expect(await engines.migration(id)).toBeNull();
      expect(await engines.get(id)).toEqual({ docs: 'postgres', blobs: 'swift' });
    });

    it('refuses a second running migration, and replaces a switched one only once', async () => {
      const id = newId();
      expect(await engines.beginMigration(migrationOf(id), null)).toBe(true);
      expect(await engines.beginMigration(migrationOf(id), null)).toBe(false);
      expect(await engines.beginMigration(migrationOf(id), 'switched')).toBe(false);
      await engines.switchMigration(id);
      expect(await engines.beginMigration(migrationOf(id), null)).toBe(false);
      const back = { ...migrationOf(id, { docs: 'sqlite', blobs: 'local' }), from: { docs: 'postgres', blobs: 'local' } };
      expect(await engines.beginMigration(back, 'switched')).toBe(true);
      expect(await engines.migration(id)).toEqual(back);
      expect(await engines.beginMigration(back, 'switched')).toBe(false);
    });

    it('lets exactly one of two handles on the same storage (two processes) begin the same migration', async () => {
      const other = await open();
      for (let i = 0; i < 5; i++) {
        const id = newId();
        const wins = await Promise.all([engines.beginMigration(migrationOf(id), null), other.beginMigration(migrationOf(id), null)]);
        expect(wins.filter(Boolean)).toHaveLength(1);
        await engines.switchMigration(id);
        const again = await Promise.all([engines.beginMigration(migrationOf(id), 'switched'), other.beginMigration(migrationOf(id), 'switched')]);
        expect(again.filter(Boolean)).toHaveLength(1);
      }
    });
  });
}
