/**
 * Where each instance's state lives (issue 16, "moving between engines"): the engine of its documents (`sqlite`,
 * `postgres`) and of its blobs (`local`, `swift`, `s3`). The settings' `docs.engine` / `blobs.engine` are the engines
 * of NEW instances; an instance with no record is on the embedded engines (the only ones before records existed).
 * The same store keeps the state of an instance's migration (instances/migrate.ts), durably, so that a process that
 * dies in the middle leaves the instance on its source engines and the next start knows what to undo.
 * Implementations: ./engines-sqlite.ts (in registry.sqlite) and ./engines-pg.ts.
 */
export interface EngineChoice {
  docs: string;
  blobs: string;
}

/** The engines of an instance that has no record. */
export const EMBEDDED_ENGINES: Readonly<EngineChoice> = Object.freeze({ docs: 'sqlite', blobs: 'local' });

/**
 * `running`: the copy is under way, the source serves (a run cut short is undone at the next start);
 * `switched`: the target serves and the source's copy is left until `--cleanup` (or `--drop-source`) removes it.
 */
export type MigrationPhase = 'running' | 'switched';

export interface MigrationRecord {
  instanceId: string;
  domain: string;
  from: EngineChoice;
  to: EngineChoice;
  phase: MigrationPhase;
  startedAt: string;
}

export interface InstanceEngines {
  /** The instance's engines, or null when it has no record (it is then on EMBEDDED_ENGINES). */
  get(instanceId: string): Promise<EngineChoice | null>;
  set(instanceId: string, engines: EngineChoice): Promise<void>;
  /** Forgets an instance (destroyed): its engines and its migration record. */
  remove(instanceId: string): Promise<void>;

  migration(instanceId: string): Promise<MigrationRecord | null>;
  migrations(): Promise<MigrationRecord[]>;
  /**
   * Records a new running migration, compare-and-swap: `replacing` null when the instance must have no record,
   * or 'switched' to replace the record of a finished one (whose source copy was dropped by the caller). False when
   * the record is not in that state (another migration got there first).
   */
  beginMigration(record: MigrationRecord, replacing: null | 'switched'): Promise<boolean>;
  /** The switch, in one transaction: the instance's engines become `record.to` and the record's phase `switched`. */
  switchMigration(instanceId: string): Promise<void>;
  /** Removes the migration record (a run undone, or a source copy cleaned up). */
  endMigration(instanceId: string): Promise<void>;
  close(): Promise<void>;
}
