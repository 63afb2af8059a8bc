/**
 * The avatars with docs.engine postgres (avatar.ts keeps them on disk otherwise): one row per instance in the shared
 * schema `hearth`, so that every process serves the avatar any of them received. An avatar is at most 512×512 pixels,
 * re-encoded: a few hundred KB at most. Destroying the instance removes its row (compose.ts).
 */
import type { PgPool } from '../engines/postgres.js';
import { PgSchema } from '../engines/pg-schema.js';
import { storedAvatar, type Avatars, type StoredAvatar } from './avatar.js';

const ddl = (table: string) => `CREATE TABLE IF NOT EXISTS hearth.${table} (instance_id text PRIMARY KEY, data bytea NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())`;

export class PgAvatars implements Avatars {
  private readonly schema: PgSchema;

  /** `table`: `avatars`, or `wallpapers` for Home's wallpaper (settings/wallpaper-routes.ts). */
  constructor(private readonly pool: PgPool, private readonly table: 'avatars' | 'wallpapers' = 'avatars') {
    this.schema = new PgSchema(pool, ddl(table));
  }

  async write(instanceId: string, data: Buffer): Promise<void> {
    await this.schema.ready();
    await this.pool.query(`INSERT INTO hearth.${this.table} (instance_id, data) VALUES ($1, $2)
      ON CONFLICT (instance_id) DO UPDATE SET data = excluded.data, updated_at = now()`, [instanceId, data]);
  }

  async read(instanceId: string): Promise<StoredAvatar | null> {
    await this.schema.ready();
    const { rows } = await this.pool.query<{ data: Buffer }>(`SELECT data FROM hearth.${this.table} WHERE instance_id = $1`, [instanceId]);
    return rows[0] ? storedAvatar(rows[0].data) : null;
  }

  async remove(instanceId: string): Promise<void> {
    await this.schema.ready();
    await this.pool.query(`DELETE FROM hearth.${this.table} WHERE instance_id = $1`, [instanceId]);
  }
}
