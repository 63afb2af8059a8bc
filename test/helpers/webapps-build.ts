/**
 * The built-in apps built once for every test file and worker while their sources stay the same: a build
 * (scripts/build-webapps.mjs, 10-20 s on 2 cores) goes into `<tmpdir>/hearth-webapps-cache/<hash>/`, where `<hash>` is the
 * sha256 of everything the build reads (webapps/, the build script and its shims, package-lock.json, the publish code).
 * A lock (a folder made with mkdir, holding its builder's pid) keeps two workers from building the same thing at
 * once; a lock whose builder is gone is taken over. A changed source gives another hash, so another build.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { publish } from '../../src/apps/registry/publish.js';
import { alive } from '../../src/backup/lock.js';
// @ts-expect-error: the build script is plain JavaScript (it runs before any compilation)
import { buildWebapps } from '../../scripts/build-webapps.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** What the build reads: its output is a function of these files' contents. */
const INPUTS = ['webapps', 'scripts/build-webapps.mjs', 'scripts/webapps-shims', 'package-lock.json', 'src/apps/registry', 'src/apps/code/tarball.ts'];

export interface BuiltWebapp { slug: string; version: string; dir: string; tarball: string; sha256: string; bytes: number; jsGzip: number; manifest: Record<string, unknown> }
export interface BuiltWebapps { registryDir: string; apps: BuiltWebapp[] }

function filesUnder(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path).sort().filter((n) => n !== 'node_modules').flatMap((n) => filesUnder(join(path, n)));
}

/** The sha256 of the build's inputs (their paths and contents). */
export function sourcesHash(): string {
  const h = createHash('sha256');
  for (const file of INPUTS.flatMap((p) => filesUnder(join(ROOT, p)))) h.update(relative(ROOT, file)).update('\0').update(readFileSync(file)).update('\0');
  return h.digest('hex').slice(0, 16);
}

/** Takes the lock folder `lockDir` (waiting for its holder, or taking it from a holder that is gone). */
export async function lock(lockDir: string): Promise<void> {
  for (;;) {
    try {
      mkdirSync(lockDir);
      writeFileSync(join(lockDir, 'pid'), String(process.pid));
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let holder = NaN;
    try {
      holder = Number(readFileSync(join(lockDir, 'pid'), 'utf8'));
    } catch {
      // the holder has made the folder and not yet written its pid, or has just let go
    }
    if (holder && !alive(holder)) rmSync(lockDir, { recursive: true, force: true });
    else await sleep(200);
  }
}

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
    rmSync(lockDir, { recursive: true, force: true });
  }
}
