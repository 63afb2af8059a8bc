/**
 * Backup and restore around the data directory's lock (common/data-dir-lock.ts): a backup refuses while a `hearth
 * restore` holds the folder (another process), and drops its copy when the folder was swapped under it; a restore whose
 * final swap finds the folder taken meanwhile (a server's start between its two renames) waits for that process to leave
 * it, and tells where both contents are when it gives up.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { lockDataDir } from '../common/data-dir-lock.js';
import { restoreBackup } from './restore.js';
import { takeBackup } from './snapshot.js';

const root = mkdtempSync(join(tmpdir(), 'hearth-restore-swap-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

/** A data directory whose registry.sqlite and note.txt say `mark`. */
function dataDir(mark: string): string {
  return seed(join(root, `data-${n++}`), mark);
}

function seed(dir: string, mark: string): string {
  mkdirSync(dir, { mode: 0o700 });
  const db = new Database(join(dir, 'registry.sqlite'));
  db.exec('CREATE TABLE mark (v TEXT)');
  db.prepare('INSERT INTO mark VALUES (?)').run(mark);
  db.close();
  writeFileSync(join(dir, 'note.txt'), mark);
  return dir;
}

const markOf = (dir: string) => {
  const db = new Database(join(dir, 'registry.sqlite'), { readonly: true });
  try {
    return (db.prepare('SELECT v FROM mark').get() as { v: string }).v;
  } finally {
    db.close();
  }
};

const backup = (dir: string, target = join(root, `backups-${n++}`), onProgress?: Parameters<typeof takeBackup>[0]['onProgress']) =>
  takeBackup({ dataDir: dir, target, hearthVersion: 'test', engines: { docs: 'sqlite', coordination: 'memory', blobs: 'fs' }, onProgress });

/** A process of its own that holds `dir` as `command` does, until killed. */
async function holder(dir: string, command: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e',
    `import { lockDataDir } from './src/common/data-dir-lock.ts'; lockDataDir(process.argv[1], process.argv[2]); console.log('held'); setInterval(() => {}, 60_000);`, dir, command], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((ok, ko) => {
    createInterface({ input: child.stdout }).on('line', (l) => l === 'held' && ok());
    child.on('exit', (code) => ko(new Error(`the holder ended (${code})`)));
  });
  return { pid: child.pid!, stop: () => new Promise<void>((ok) => (child.once('exit', () => ok()), child.kill('SIGKILL'))) };
}

describe('hearth backup beside hearth restore', () => {
  it('refuses while a restore in another process holds the data directory, and runs once that process is gone', async () => {
    const dir = dataDir('old');
    const restore = await holder(dir, 'hearth restore');
    try {
      await expect(backup(dir)).rejects.toThrow(new RegExp(`is being restored by hearth restore \\(pid ${restore.pid}, since .*\\): .*a half-restored folder; wait for the restore to end \\(or stop it\\), then run hearth backup again`));
    } finally {
      await restore.stop();
    }
    // its owner file is left behind (killed), its lock is not: the backup runs
    expect(readdirSync(dir)).toContain('hearth.lock.owner');
    expect((await backup(dir)).databases).toBe(1);
  });

  it('is not refused beside a server (hearth serve holding the folder)', async () => {
    const dir = dataDir('served');
    const serve = await holder(dir, 'hearth serve');
    try {
      expect((await backup(dir)).databases).toBe(1);
    } finally {
      await serve.stop();
    }
  });

  it('drops its copy when the folder was swapped while it ran (a restore ended meanwhile)', async () => {
    const dir = dataDir('before');
    const target = join(root, `backups-${n++}`);
    let swapped = false;
    await expect(backup(dir, target, (p) => {
      if (p.phase !== 'catch-up' || swapped) return;
      swapped = true;
      renameSync(dir, `${dir}.old`);
      seed(dir, 'after');
    })).rejects.toThrow(/was replaced while it was backed up .*: the copy would mix the old and the new content, so it was dropped; run hearth backup again/);
    expect(readdirSync(target).filter((f) => !f.startsWith('.lock'))).toEqual([]);
  });
});

describe("hearth restore's swap", () => {
  it('waits for a process that took the folder between its two renames and left it, then swaps', async () => {
    const snapshot = (await backup(dataDir('restored'))).snapshot;
    const dir = dataDir('current');
    const out = await restoreBackup({
      source: snapshot, dataDir: dir, force: true,
      inSwap: async () => {
        const release = lockDataDir(dir, 'hearth serve'); // a start that then fails, 300 ms later
        setTimeout(release, 300);
      },
    });
    expect(out.replaced).toBe(true);
    expect(markOf(dir)).toBe('restored');
    expect(readFileSync(join(dir, 'note.txt'), 'utf8')).toBe('restored');
    expect(readdirSync(root).filter((f) => f.includes('.restoring-') || f.includes('.replaced-'))).toEqual([]);
  });

  it('gives up after a while when that process keeps it, both contents kept and named', async () => {
    const snapshot = (await backup(dataDir('restored'))).snapshot;
    const dir = dataDir('current');
    let release = () => {};
    try {
      const err = await restoreBackup({ source: snapshot, dataDir: dir, force: true, inSwap: async () => void (release = lockDataDir(dir, 'hearth serve')) }).catch((e: Error) => e);
      expect(err).toBeInstanceOf(Error);
      const m = /was taken by hearth serve \(pid \d+, this process, since .*\) while the restore was swapping it in \(waited 3 s\): the restored content is whole in (.*\.restoring-[^,]*), the old one in (.*\.replaced-[^;]*); stop that process, move .* away, then rename/.exec((err as Error).message);
      expect(m, (err as Error).message).not.toBeNull();
      expect(markOf(m![1]!)).toBe('restored');
      expect(markOf(m![2]!)).toBe('current');
      rmSync(m![1]!, { recursive: true });
      rmSync(m![2]!, { recursive: true });
    } finally {
      release();
    }
  });
});
