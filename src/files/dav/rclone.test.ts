/**
 * rclone (Debian's, webdav backend, vendor "other") against a real Hearth: a tree of 1,000 files
 * with unicode, spaces and URL-special characters in their names is synced up, checked, changed
 * and synced again (what it deletes lands in the Hearth trash), then synced down and compared
 * byte for byte. The token is the Basic password, obscured in a temporary rclone.conf.
 *
 * Debian's rclone (1.60) paces its WebDAV calls at 10 ms at least, per process, with no option to
 * change it (pacer_min_sleep came later): one process would spend ~35 s waiting on itself for 1,000
 * files (3 calls each: MKCOL of the parent, PUT, PROPFIND). So the bulk transfers run one rclone per
 * top-level folder, at once (which also loads the server with concurrent writers); check and the
 * sync of the changes run on the whole tree.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDebianPackage } from '../../../test/helpers/debian.js';
import { startTestHearth, type TestHearth } from '../../../test/helpers/hearth.js';
import { TRASH_DIR_ID } from '../types.js';

let h: TestHearth;
let dir: string;
let conf: string;
const up = () => join(dir, 'up');
const down = () => join(dir, 'down');

function rclone(...args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile('rclone', ['--config', conf, '--retries', '1', '--low-level-retries', '1', ...args], { timeout: 120_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, out: `${stdout}${stderr}` });
    });
  });
}

const TOPS = ['Photos été 2024', 'Docs — 文件', 'Music ♫ mix', 'a b  c', 'Ωmega ñandú', 'emoji 📷 dir', "x'y (1) [2]", 'percent %25 & amp; #hash', 'plain', 'Ünïcödé ß'];
const SUBS = ['sub one', 'второй', 'troisième + plus', 'semi;colon=eq'];
const TAGS = ['✓', 'ñ', '日本', 'çà', '€ 100', '?q', '#frag', '"quoted"', '& < >', ''];

/** 10 × 4 directories of 25 files: 1,000 files, most of a few KB, a few of some MB (names NFC, as Linux keeps them). */
function buildTree(root: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  for (const [t, top] of TOPS.entries()) {
    for (const [s, sub] of SUBS.entries()) {
      const d = join(root, top, sub);
      mkdirSync(d, { recursive: true });
      for (let i = 0; i < 25; i++) {
        const big = t === 0 && s === 0 && i < 4;
        const size = big ? (1 + i) * 700_000 : (i * 389 + t * 97 + s * 13) % 6000;
        writeFileSync(join(d, `fichier ${i} ${TAGS[i % TAGS.length]}.${['txt', 'bin', 'jpg', 'md'][i % 4]}`.normalize('NFC')), randomBytes(size));
        files++;
        bytes += size;
      }
    }
  }
  return { files, bytes };
}

function listTree(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(relative(root, p));
    }
  };
  walk(root);
  return out.sort();
}

/** One rclone per top-level folder, all at once (see above). */
async function perTop(args: (top: string) => string[]): Promise<void> {
  const runs = await Promise.all(TOPS.map((top) => rclone(...args(top), '--transfers', '4', '--checkers', '8')));
  for (const [i, r] of runs.entries()) expect(r.code, `${TOPS[i]}:\n${r.out}`).toBe(0);
}

const md5 = (path: string) => createHash('md5').update(readFileSync(path)).digest('base64');
const seconds = (t0: number) => ((performance.now() - t0) / 1000).toFixed(2);

beforeAll(async () => {
  ensureDebianPackage('rclone');
  h = await startTestHearth();
  dir = mkdtempSync(join(tmpdir(), 'hearth-rclone-'));
  conf = join(dir, 'rclone.conf');
  writeFileSync(conf, '');
  const obscured = await rclone('obscure', await h.cliToken('io.cozy.files'));
  expect(obscured.code, obscured.out).toBe(0);
  writeFileSync(conf, ['[hearth]', 'type = webdav', `url = http://localhost:${h.port}/dav/files/`, 'vendor = other', 'user = me', `pass = ${obscured.out.trim()}`, ''].join('\n'));
});
afterAll(async () => {
  await h?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('rclone over WebDAV', () => {
  it('syncs 1,000 files up, checks them, syncs changes (deletions go to the trash), syncs down identical', async () => {
    const { files, bytes } = buildTree(up());
    expect(files).toBe(1000);

    let t0 = performance.now();
    await perTop((top) => ['sync', join(up(), top), `hearth:sync test/${top}`]);
    const upTime = seconds(t0);

    // the files are there, through the same file system as /files
    const local = listTree(up());
    for (const rel of local.filter((_, i) => i % 50 === 0)) {
      const doc = await h.hearth.vfs.fs.statByPath(h.instance, `/sync test/${rel}`);
      expect(doc.md5sum, rel).toBe(md5(join(up(), rel)));
      expect(Number(doc.size)).toBe(statSync(join(up(), rel)).size);
    }

    t0 = performance.now();
    const check = await rclone('check', up(), 'hearth:sync test', '--checkers', '16');
    const checkTime = seconds(t0);
    expect(check.code, check.out).toBe(0);
    expect(check.out).toMatch(/0 differences found/);
    expect(check.out).toMatch(/1000 matching files/);

    // a change, a deletion and an addition: the deleted file goes to the trash
    const gone = local[7]!;
    writeFileSync(join(up(), local[3]!), randomBytes(4321));
    rmSync(join(up(), gone));
    writeFileSync(join(up(), 'plain', 'new · file.txt'), 'added later\n');
    t0 = performance.now();
    const again = await rclone('sync', up(), 'hearth:sync test', '--transfers', '8', '--checkers', '16');
    const againTime = seconds(t0);
    expect(again.code, again.out).toBe(0);
    const trashed = await h.hearth.vfs.fs.children(h.instance, TRASH_DIR_ID, { limit: 1000 });
    const name = gone.slice(gone.lastIndexOf('/') + 1);
    expect(trashed.docs.find((d) => d.name === name)).toMatchObject({ restore_path: `/sync test/${gone.slice(0, gone.lastIndexOf('/'))}` });
    expect((await rclone('check', up(), 'hearth:sync test', '--checkers', '16')).code).toBe(0);

    t0 = performance.now();
    await perTop((top) => ['sync', `hearth:sync test/${top}`, join(down(), top)]);
    const downTime = seconds(t0);
    const ours = listTree(up());
    expect(listTree(down())).toEqual(ours);
    for (const rel of ours) expect(readFileSync(join(down(), rel)).equals(readFileSync(join(up(), rel))), rel).toBe(true);

    console.log(`rclone: ${files} files, ${(bytes / 1e6).toFixed(1)} MB: sync up ${upTime} s, check ${checkTime} s, sync of 3 changes ${againTime} s, sync down ${downTime} s`);
  });
});
