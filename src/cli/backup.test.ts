import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../main.js';
import { captureStdio } from '../../test/helpers/stdio.js';
import { startTestHearth, type TestHearth } from '../../test/helpers/hearth.js';

const io = captureStdio();
let h: TestHearth;
const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'hearth-cli-backup-'));
  dirs.push(d);
  return d;
};
beforeAll(async () => {
  h = await startTestHearth();
});
afterAll(async () => {
  await h.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('hearth backup and restore, the command line', () => {
  it('explain themselves with --help', async () => {
    expect(await main(['backup', '--help'], {})).toBe(0);
    expect(io.stdout).toMatch(/Usage: hearth backup \[options\] <dir>/);
    expect(io.stdout).toMatch(/--copy[\s\S]*--keep <n>[\s\S]*--json[\s\S]*\$ hearth backup \/var\/backups\/hearth/);
    io.stdout = '';
    expect(await main(['restore', '--help'], {})).toBe(0);
    expect(io.stdout).toMatch(/Usage: hearth restore \[options\] <backup>/);
    expect(io.stdout).toMatch(/--force[\s\S]*--json[\s\S]*Nothing is written into the data directory unless every file matches/);
  });

  it('prints progress and what it copied and linked; a second run links, --keep prunes', async () => {
    const target = tmp();
    expect(await main(['backup', target, '--data-dir', h.dataDir], {})).toBe(0);
    expect(io.stdout).toMatch(/^0\.\ds {2}blobs: 0 files/);
    expect(io.stdout).toMatch(/Snapshot .*: \d+ files, \d+ databases \(.*\) in [\d.]+s \([\d.]+ MB\/s\)\n {2}copied \d+ \(.*\), linked to the previous snapshot 0, linked from the data directory \d+\n$/);
    io.stdout = '';
    expect(await main(['backup', target, '--keep', '1'], { HEARTH_DATA_DIR: h.dataDir })).toBe(0);
    expect(io.stdout).toMatch(/linked to the previous snapshot [1-9]\d*/);
    expect(io.stdout).toMatch(/removed the older snapshots \d{4}-/);
    expect(readdirSync(target).filter((n) => /^\d{4}-/.test(n)).length).toBe(1);
  });

  it('refuses the scale-out engines, naming their tools, and what is not a data directory', async () => {
    const target = tmp();
    expect(await main(['backup', target, '--data-dir', h.dataDir], { HEARTH_DOCS_ENGINE: 'postgres', HEARTH_DOCS_URL: 'postgres://h:p@127.0.0.1:1/h' })).toBe(1);
    expect(io.stderr).toMatch(/copies the embedded engines' data directory only, and here documents .* PostgreSQL: pg_dump \(schemas hearth, hearth_fn and i_\*\)/);
    io.stderr = '';
    expect(await main(['backup', target, '--data-dir', tmp()], {})).toBe(1);
    expect(io.stderr).toMatch(/holds no registry\.sqlite: it is not a hearth data directory/);
    io.stderr = '';
    expect(await main(['backup', join(h.dataDir, 'backups'), '--data-dir', h.dataDir, '--json'], {})).toBe(1);
    expect(io.stdout).toMatch(/^\{"type":"error","error":"the backup folder .* and the data directory .* must not contain one another"\}\n$/);
    expect(await main(['backup', target, '--keep', '0'], {})).toBe(2);
    expect(readdirSync(target)).toEqual([]);
  });
});
