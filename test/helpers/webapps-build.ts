/**
 * The built-in apps built once for every test file and worker while their sources stay the same: a build
 * (scripts/build-webapps.mjs, 10-20 s on 2 cores) goes into `<tmpdir>/hearth-webapps-cache/<hash>/`, where `<hash>` is the
 * sha256 of everything the build reads (scripts/webapps-sources.mjs: webapps/, the build script and its shims,
 * package-lock.json, the publish code).
 * A lock (dir-lock.ts) keeps two workers from building the same thing at once. A changed source gives another hash,
 * so another build.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { publish } from '../../src/apps/registry/publish.js';
import { lock, unlock } from './dir-lock.js';
// @ts-expect-error: the build script is plain JavaScript (it runs before any compilation)
import { buildWebapps } from '../../scripts/build-webapps.mjs';
// @ts-expect-error: plain JavaScript, as the build script
import { webappsSourcesHash } from '../../scripts/webapps-sources.mjs';

export interface BuiltWebapp { slug: string; version: string; dir: string; tarball: string; sha256: string; bytes: number; jsGzip: number; manifest: Record<string, unknown> }
export interface BuiltWebapps { registryDir: string; apps: BuiltWebapp[] }

/** The sha256 of the build's inputs (scripts/webapps-sources.mjs). */
export const sourcesHash = (): string => webappsSourcesHash() as string;

/** The built-in apps built and published into a registry folder, from the cache when their sources have not changed. */
export async function cachedWebappsBuild(): Promise<BuiltWebapps> {
  const dir = join(tmpdir(), 'hearth-webapps-cache', sourcesHash());
  const done = join(dir, 'built.json');
  if (existsSync(done)) return JSON.parse(readFileSync(done, 'utf8')) as BuiltWebapps;
  mkdirSync(join(tmpdir(), 'hearth-webapps-cache'), { recursive: true });
  const lockDir = `${dir}.lock`;
  await lock(lockDir);
  try {
    if (existsSync(done)) return JSON.parse(readFileSync(done, 'utf8')) as BuiltWebapps;
    rmSync(dir, { recursive: true, force: true });
    const built = (await buildWebapps({ outDir: join(dir, 'build'), registryDir: join(dir, 'registry'), publish })) as BuiltWebapps;
    // written last: a build cut short leaves no built.json, and the next one starts over
    writeFileSync(done, JSON.stringify(built));
    return built;
  } finally {
    unlock(lockDir);
  }
}
