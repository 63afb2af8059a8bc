/**
 * A DocSnapshot of an instance's PostgreSQL schema (../store.ts): one connection of the pool holding a REPEATABLE READ,
 * READ ONLY transaction, whose first statement fixes what every later read of it sees.
 */
import { NotFound } from '../../common/errors.js';
import type { PgClient, PgPool } from '../../engines/postgres.js';
import type { AllDocsOptions, AllDocsResult, Doc, DocSnapshot, GetOptions } from '../store.js';
import { PgReader } from './read.js';
import { lookupDoctype } from './schema.js';

export async function openPgSnapshot(pool: PgPool, schema: string): Promise<DocSnapshot> {
  const client = await pool.connect();
  let broken = false;
  const onError = () => {
    broken = true;
  };
  client.on('error', onError);
  let exists: boolean;
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    // the first statement takes the snapshot; an instance that never wrote has no schema yet (an empty snapshot)
    const res = await client.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [`"${schema}".doctypes`]);
    exists = res.rows[0]?.t != null;
  } catch (err) {
    client.off('error', onError);
    client.release(true);
    throw err;
  }
  return new PgSnapshot(client, schema, exists, () => {
    client.off('error', onError);
    return broken;
  });
}

class PgSnapshot implements DocSnapshot {
  private closed = false;

  constructor(private readonly client: PgClient, private readonly schema: string, private readonly exists: boolean, private readonly done: () => boolean) {}

  private async reader(doctype: string): Promise<PgReader | null> {
    if (!this.exists) return null;
    const t = await lookupDoctype(this.client, this.schema, doctype);
    return t ? new PgReader(this.client, this.schema, t) : null;
  }

  async listDoctypes(): Promise<string[]> {
    if (!this.exists) return [];
    const res = await this.client.query<{ name: string }>(`SELECT name FROM "${this.schema}".doctypes ORDER BY name COLLATE "C"`);
    return res.rows.map((r) => r.name);
  }

  async allDocs(doctype: string, opts: AllDocsOptions): Promise<AllDocsResult> {
    return (await (await this.reader(doctype))?.allDocs(opts)) ?? { total_rows: 0, offset: 0, rows: [] };
  }

  async get(doctype: string, id: string, opts: GetOptions = {}): Promise<Doc> {
    const r = await this.reader(doctype);
    if (!r) throw new NotFound('missing');
    return r.get(id, opts);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    let failed = false;
    try {
      await this.client.query('COMMIT');
    } catch {
      failed = true;
    }
    this.client.release(this.done() || failed);
  }
}
