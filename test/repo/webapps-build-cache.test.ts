/**
 * The tests' build of the built-in apps (test/helpers/webapps-build.ts): kept under the hash of its inputs, so that
 * another test file or worker gets the same registry without building again; a lock left by a builder that died is
 * taken over, one whose builder runs is waited for.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { lock } from '../helpers/dir-lock.js';
import { cachedWebappsBuild, sourcesHash } from '../helpers/webapps-build.js';
import { BUILTIN_SLUGS } from '../helpers/webapps.js';

const scratch = mkdtempSync(join(tmpdir(), 'hearth-webapps-lock-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('the tests\' build of the built-in apps', () => {
  it('gives every caller the same build while the sources stay the same', async () => {
    const first = await cachedWebappsBuild();
    expect(dirname(first.registryDir)).toBe(join(tmpdir(), 'hearth-webapps-cache', sourcesHash()));
    expect(first.apps.map((a) => a.slug)).toEqual(BUILTIN_SLUGS);
    for (const a of first.apps) expect(existsSync(a.tarball), a.tarball).toBe(true);
    const done = join(dirname(first.registryDir), 'built.json');
    const written = statSync(done).mtimeMs;
    expect(await cachedWebappsBuild()).toEqual(first);
    expect(statSync(done).mtimeMs).toBe(written); // not built again
  }, 180_000);

  it('takes over a lock whose holder is gone, and waits for one whose holder runs', async () => {
    const lockDir = join(scratch, 'x.lock');
    const gone = spawnSync(process.execPath, ['-e', '0']).pid; // a process that has ended
    mkdirSync(lockDir);
    writeFileSync(join(lockDir, 'pid'), String(gone));
    await lock(lockDir);
    expect(readFileSync(join(lockDir, 'pid'), 'utf8')).toBe(String(process.pid));
    // held by a process that runs (this one): waited for until let go
    let taken = false;
    const waiting = lock(lockDir).then(() => (taken = true));
    await sleep(500);
    expect(taken).toBe(false);
    rmSync(lockDir, { recursive: true });
    await waiting;
    expect(taken).toBe(true);
  });
});
