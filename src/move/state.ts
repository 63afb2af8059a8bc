/**
 * Where an instance stands in a move (cozy-stack's blocked states, web/middlewares/instance.go): `importing` while an
 * import replaces its data, `moving` while it waits for the data of the instance it is moved from (the target of a move),
 * `exporting` while its export for a move runs (the source, blocked so that nothing changes behind the archive: cozy-stack's
 * move design; unblocked by the target's finalize or abort, or by the export's failure), `moved` once it was moved
 * elsewhere (the source, retired: its pages answer 410 with the new address). No row: a
 * normal instance. Kept with the server's state (SQLite here, PostgreSQL with docs.engine postgres: ./state-pg.ts) so
 * that every process sees it; transitions are compare-and-swap, so two processes cannot both start an import.
 */
import Database from 'better-sqlite3';

export type MoveStatus = 'importing' | 'moving' | 'exporting' | 'moved';

/** The states that block the instance (every request but `/move/*` answers 503, or 302 to the waiting page: import/gate.ts). */
export function isBlocked(state: Pick<MoveState, 'status'> | null | undefined): state is MoveState {
  return state?.status === 'importing' || state?.status === 'moving' || state?.status === 'exporting';
}

export interface MoveState {
  status: MoveStatus;
  /** The other instance's address (`https://host/`): where it came from (importing/moving) or went to (moved). */
  peer: string | null;
  /** ISO time of the transition. */
  since: string;
  /** What the running operation needs to resume or report (the import's export URL, the job id…), as JSON-able data. */
  detail: Record<string, unknown>;
}

export interface MoveStateStore {
  get(instanceId: string): Promise<MoveState | null>;
  /**
   * Compare-and-swap: writes `next` (null = back to normal) only if the current status is `from` (null = none).
   * False when it is not (another process moved first): the caller refuses with 409.
   */
  transition(instanceId: string, from: MoveStatus | null, next: MoveState | null): Promise<boolean>;
  /** Every instance in a move state (what a restarting server must finish or undo). */
  list(): Promise<Array<{ instanceId: string; state: MoveState }>>;
  /** A destroyed instance's row. */
  forget(instanceId: string): Promise<void>;
  close(): Promise<void>;
}

interface Row { instance_id: string; status: string; peer: string | null; since: string; detail: string }

export function rowToState(r: Row): MoveState {
  const detail: unknown = JSON.parse(r.detail);
  return {
    status: r.status as MoveStatus, peer: r.peer, since: r.since,
    detail: detail && typeof detail === 'object' && !Array.isArray(detail) ? (detail as Record<string, unknown>) : {},
  };
}

export class SqliteMoveState implements MoveStateStore {
  private readonly db: Database.Database;

  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.exec('CREATE TABLE IF NOT EXISTS move_state (instance_id TEXT PRIMARY KEY, status TEXT NOT NULL, peer TEXT, since TEXT NOT NULL, detail TEXT NOT NULL)');
  }

  async get(instanceId: string): Promise<MoveState | null> {
    const r = this.db.prepare('SELECT * FROM move_state WHERE instance_id = ?').get(instanceId) as Row | undefined;
    return r ? rowToState(r) : null;
  }

  async transition(instanceId: string, from: MoveStatus | null, next: MoveState | null): Promise<boolean> {
    return this.db.transaction(() => {
      const r = this.db.prepare('SELECT status FROM move_state WHERE instance_id = ?').get(instanceId) as { status: string } | undefined;
      if ((r?.status ?? null) !== from) return false;
      if (next) {
        this.db.prepare('INSERT OR REPLACE INTO move_state (instance_id, status, peer, since, detail) VALUES (?, ?, ?, ?, ?)')
          .run(instanceId, next.status, next.peer, next.since, JSON.stringify(next.detail));
      } else {
        this.db.prepare('DELETE FROM move_state WHERE instance_id = ?').run(instanceId);
      }
      return true;
    }).immediate();
  }

  async list(): Promise<Array<{ instanceId: string; state: MoveState }>> {
    const rows = this.db.prepare('SELECT * FROM move_state ORDER BY instance_id').all() as Row[];
    return rows.map((r) => ({ instanceId: r.instance_id, state: rowToState(r) }));
  }

  async forget(instanceId: string): Promise<void> {
    this.db.prepare('DELETE FROM move_state WHERE instance_id = ?').run(instanceId);
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
