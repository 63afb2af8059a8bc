/**
 * Git sources against a real `git daemon` (Debian's git) serving repositories on loopback: a branch is cloned and
 * stored as a tarball would be, the same commit is the same version, a moved branch is a new one, and what is hostile
 * or broken is refused with nothing left in the scratch folder.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth } from '../../../test/helpers/hearth.js';
import { BadPackage, InvalidSource } from './errors.js';
import { LocalAppCodeStore } from './local-store.js';
import { gitRemote, withGitClone } from './source-git.js';
import { fetchPackage, type FetchOptions } from './sources.js';

let dir: string;
let store: LocalAppCodeStore;
let daemon: ChildProcess;
let base: string;
const limits = { maxEntries: 5000, maxUnpackedBytes: 5 * 1024 * 1024 };
const opts = (extra: Partial<FetchOptions> = {}): FetchOptions => ({ instanceId: 'i1', dev: false, limits, timeoutMs: 30_000, ...extra });
const env = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' };
const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, env, stdio: 'pipe' }).toString();

/** A repository under the daemon's base path, with `files` committed on branch `main`. */
function repo(name: string, files: Record<string, string | Buffer>): string {
  const path = join(dir, 'served', name);
  mkdirSync(path, { recursive: true });
  git(path, 'init', '-q', '-b', 'main');
  commit(path, files, 'first');
  return path;
}

function commit(path: string, files: Record<string, string | Buffer>, message: string): void {
  for (const [name, body] of Object.entries(files)) {
    mkdirSync(join(path, name, '..'), { recursive: true });
    writeFileSync(join(path, name), body);
  }
  git(path, 'add', '-A');
  git(path, 'commit', '-q', '-m', message);
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as { port: number };
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

const manifest = (version: string) => JSON.stringify({ slug: 'notes', name: 'Notes', version, type: 'webapp' });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hearth-git-'));
  store = new LocalAppCodeStore({ dir: join(dir, 'code'), dbFile: join(dir, 'code.sqlite') });
  mkdirSync(join(dir, 'served'));
  repo('notes.git', { 'manifest.webapp': manifest('1.0.0'), 'index.html': '<!doctype html><title>Notes</title>', 'js/app.js': 'console.log(1)' });
  const notes = join(dir, 'served', 'notes.git');
  git(notes, 'checkout', '-q', '-b', 'beta');
  commit(notes, { 'manifest.webapp': manifest('2.0.0-beta') }, 'beta');
  git(notes, 'checkout', '-q', 'main');
  const linked = repo('linked.git', { 'manifest.webapp': manifest('1.0.0') });
  symlinkSync('/etc/passwd', join(linked, 'passwd'));
  commit(linked, {}, 'a link out');
  repo('big.git', { 'manifest.webapp': manifest('1.0.0'), 'blob.bin': randomBytes(8 * 1024 * 1024) });
  const port = await freePort();
  daemon = spawn('git', ['daemon', '--reuseaddr', '--export-all', `--base-path=${join(dir, 'served')}`, '--listen=127.0.0.1', `--port=${port}`, join(dir, 'served')], { env, stdio: 'ignore' });
  base = `git://127.0.0.1:${port}`;
  // the daemon answers once a clone of the first repository works
  for (let i = 0; ; i++) {
    try {
      execFileSync('git', ['ls-remote', `${base}/notes.git`], { env, stdio: 'pipe' });
      break;
    } catch (e) {
      if (i > 100) throw e;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}, 60_000);

afterAll(async () => {
  daemon?.kill();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

const scratchEmpty = () => expect(readdirSync(store.scratchDir)).toEqual([]);

describe('git sources', () => {
  it('clones the default branch and stores it; the same commit is the same version, stored once', async () => {
    const first = await fetchPackage(store, `${base}/notes.git`, 'webapp', opts());
    expect(first).toMatchObject({ version: '1.0.0', source: `${base}/notes.git`, written: true });
    expect(first.manifest.slug).toBe('notes');
    expect((await buffer((await store.read(first.sha256, 'js/app.js', null))!)).toString()).toBe('console.log(1)');
    const again = await fetchPackage(store, `${base}/notes.git`, 'webapp', opts({ instanceId: 'i2' }));
    expect(again).toMatchObject({ sha256: first.sha256, written: false });
    scratchEmpty();
  });

  it('takes the branch of the #fragment, and a moved branch is a new version', async () => {
    const beta = await fetchPackage(store, `${base}/notes.git#beta`, 'webapp', opts());
    expect(beta.version).toBe('2.0.0-beta');
    commit(join(dir, 'served', 'notes.git'), { 'index.html': '<!doctype html><title>Notes 1.0.1</title>', 'manifest.webapp': manifest('1.0.1') }, 'fix');
    const moved = await fetchPackage(store, `${base}/notes.git#main`, 'webapp', opts());
    expect(moved.version).toBe('1.0.1');
    expect((await buffer((await store.read(moved.sha256, 'index.html', null))!)).toString()).toContain('Notes 1.0.1');
    scratchEmpty();
  });

  it('refuses an unknown branch or repository, a branch that reads as an option, ssh and other transports', async () => {
    await expect(fetchPackage(store, `${base}/notes.git#nope`, 'webapp', opts())).rejects.toThrow(/could not be cloned: .*nope/);
    await expect(fetchPackage(store, `${base}/missing.git`, 'webapp', opts())).rejects.toBeInstanceOf(BadPackage);
    await expect(fetchPackage(store, `${base}/notes.git#--upload-pack=touch`, 'webapp', opts())).rejects.toBeInstanceOf(InvalidSource);
    await expect(fetchPackage(store, 'git+ssh://git@example.com/x.git', 'webapp', opts())).rejects.toThrow(/ssh needs keys/);
    await expect(fetchPackage(store, 'ext::sh -c touch% /tmp/pwned', 'webapp', opts())).rejects.toBeInstanceOf(InvalidSource);
    scratchEmpty();
  });

  it('refuses a repository holding a link, another app, or more bytes than allowed, leaving nothing', async () => {
    await expect(fetchPackage(store, `${base}/linked.git`, 'webapp', opts())).rejects.toThrow(/link/);
    await expect(fetchPackage(store, `${base}/notes.git`, 'webapp', opts({ expectedSlug: 'drive' }))).rejects.toBeInstanceOf(BadPackage);
    // stopped while it clones (its folder outgrew the limit) or when its tarball is checked, whichever sees it first
    await expect(fetchPackage(store, `${base}/big.git`, 'webapp', opts())).rejects.toThrow(/is larger than|unpacks to more than/);
    scratchEmpty();
  });

  it('stops a clone whose folder grows past the limit, and removes it', async () => {
    let used = false;
    const cloning = withGitClone(new URL(`${base}/big.git`), store.scratchDir, { maxBytes: 1024 * 1024 }, async () => {
      used = true;
    });
    await expect(cloning).rejects.toThrow(/is larger than 1048576 bytes/);
    expect(used).toBe(false);
    scratchEmpty();
  });

  it('reads git+https:// and git+http:// as git does, without the git+', () => {
    expect(gitRemote(new URL('git+https://forge.example/team/app.git#v2'))).toEqual({ remote: 'https://forge.example/team/app.git', branch: 'v2' });
    expect(gitRemote(new URL('git://forge.example/app.git'))).toEqual({ remote: 'git://forge.example/app.git', branch: null });
  });
});

describe('git sources through the installer', () => {
  it('installs and updates a web app from a git branch over HTTP; ssh is a 422 on Source', async () => {
    const h = await startTestHearth();
    try {
      const token = await h.cliToken('io.cozy.apps');
      const settled = async () => {
        for (let i = 0; i < 400; i++) {
          const res = await h.req('GET', '/apps/notes', { token });
          if (!['installing', 'upgrading'].includes(res.body?.data?.attributes?.state)) return res;
          await new Promise((resolve) => setTimeout(resolve, 25));
        }
        throw new Error('notes never settled');
      };
      const source = `${base}/notes.git#beta`;
      expect((await h.req('POST', `/apps/notes?Source=${encodeURIComponent(source)}`, { token })).status).toBe(202);
      expect((await settled()).body.data.attributes).toMatchObject({ state: 'ready', version: '2.0.0-beta', source });
      const notes = join(dir, 'served', 'notes.git');
      git(notes, 'checkout', '-q', 'beta');
      commit(notes, { 'manifest.webapp': manifest('2.0.1-beta') }, 'beta moves');
      git(notes, 'checkout', '-q', 'main');
      expect((await h.req('PUT', `/apps/notes?Source=${encodeURIComponent(source)}`, { token })).status).toBe(202);
      expect((await settled()).body.data.attributes).toMatchObject({ state: 'ready', version: '2.0.1-beta' });
      const ssh = await h.req('POST', `/apps/other?Source=${encodeURIComponent('git+ssh://git@example.com/other.git')}`, { token });
      expect(ssh.status).toBe(422);
      expect(ssh.body.errors[0]).toMatchObject({ source: { parameter: 'Source' } });
    } finally {
      await h.close();
    }
  });
});
