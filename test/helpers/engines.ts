/**
 * The engines a vitest project runs the suites on. The default project runs everything on the embedded engines; a
 * scale-out project (vitest.config.ts) starts its servers in a globalSetup and names them in these variables, and every
 * Hearth a test starts with `testConfig` then uses them, each on its own database, key prefix and containers, so that
 * the same tests run on every engine without being written twice:
 * - TEST_PG_URL: a PostgreSQL server (postgres://postgres@127.0.0.1:<port>/postgres, trust auth): docs on postgres;
 * - TEST_REDIS_URL: a Redis server: coordination on redis;
 * - TEST_BLOBS: the JSON of a `blobs` setting (engine swift or s3 and their settings): blobs on that store.
 * A test that sets an engine itself in its overrides keeps it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { HearthConfig } from '../../src/config/types.js';

/** The psql of Debian's postgresql package. */
function psqlBin(): string {
  const root = '/usr/lib/postgresql';
  const version = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'psql'))).sort((a, b) => Number(b) - Number(a))[0];
  if (!version) throw new Error('psql not found under /usr/lib/postgresql: apt-get install postgresql');
  return join(root, version, 'bin', 'psql');
}

/** Creates database `name` on the server of `serverUrl` (if missing) and returns its URL. */
export function createTestDatabase(serverUrl: string, name: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`bad database name ${name}`);
  const url = new URL(serverUrl);
  const args = ['-h', url.hostname, '-p', url.port || '5432', '-U', decodeURIComponent(url.username || 'postgres'), '-d', 'postgres', '-v', 'ON_ERROR_STOP=1', '-tAc'];
  const exists = spawnSync(psqlBin(), [...args, `SELECT 1 FROM pg_database WHERE datname = '${name}'`], { encoding: 'utf8' });
  if (exists.status !== 0) throw new Error(`psql: ${exists.stderr}`);
  if (exists.stdout.trim() !== '1') {
    const created = spawnSync(psqlBin(), [...args, `CREATE DATABASE ${name}`], { encoding: 'utf8' });
    if (created.status !== 0) throw new Error(`psql CREATE DATABASE ${name}: ${created.stderr}`);
  }
  url.pathname = `/${name}`;
  return url.toString();
}

/** `config` on the engines under test; `tag` (letters, digits, _) keeps this Hearth's data apart from the others'. */
export function applyEnginesUnderTest(config: HearthConfig, overrides: Partial<HearthConfig>, tag: string): HearthConfig {
  const id = tag.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  const pg = process.env.TEST_PG_URL;
  if (pg && !overrides.docs) config.docs = { engine: 'postgres', url: createTestDatabase(pg, `t_${id}`), poolSize: 5 };
  const redis = process.env.TEST_REDIS_URL;
  if (redis && !overrides.coordination) config.coordination = { engine: 'redis', url: redis, prefix: `t_${id}:` };
  const blobs = process.env.TEST_BLOBS;
  if (blobs && !overrides.blobs) {
    const chosen = JSON.parse(blobs) as HearthConfig['blobs'];
    // a container prefix on Swift, a bucket on S3: what app code's orphan sweep sees is this Hearth's alone
    const bucket = `t-${id}`.replace(/[^a-z0-9]+/g, '-').slice(0, 60).replace(/-+$/, '');
    config.blobs = { ...chosen, swift: { ...chosen.swift, containerPrefix: `t_${id}_` }, s3: { ...chosen.s3, bucket } };
  }
  return config;
}

