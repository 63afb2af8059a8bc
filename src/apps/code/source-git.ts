/**
 * Git sources, as cozy-stack's git fetcher takes them: `git://host/path[#branch]`, `git+https://…` and `git+http://…`
 * (the fragment names the branch; without it, the remote's default branch). Debian's `git` clones the branch shallow
 * and bare into a scratch folder, then `git archive` of its commit gives a plain tarball that goes through the checks
 * every package goes through (./tarball.ts: no links, no `..`, the limits). The tarball of one commit is the same bytes
 * each time, so its sha256 keys the code store as for any other tarball, and an update finds a new version only when
 * the branch moved.
 *
 * git runs without the machine's or the user's configuration, never prompts, and may use the git, http and https
 * transports only (no `ext::`, no `file://`, no ssh: keys on the server are not a thing Hearth manages). The clone has
 * a time limit and a size limit (its folder is watched while it grows): a hostile remote cannot fill the disk.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { shownUrl } from './download.js';
import { BadPackage, InvalidSource } from './errors.js';

export const GIT_PROTOCOLS = new Set(['git:', 'git+https:', 'git+http:']);
/** A branch name git accepts and that cannot be read as an option. */
const BRANCH_RE = /^(?!-)(?!.*\.\.)[A-Za-z0-9._/-]{1,200}$/;
const WATCH_MS = 250;
const STDERR_MAX = 4096;

export interface GitOptions {
  /** The clone's folder may not grow past this (the packed objects of the branch's last commit). */
  maxBytes: number;
  /** The clone must end within this (default 60 s). */
  timeoutMs?: number;
}

/** The URL git is given and the branch asked for (null: the remote's default one). */
export function gitRemote(url: URL): { remote: string; branch: string | null } {
  const fragment = decodeURIComponent(url.hash.slice(1));
  if (fragment !== '' && !BRANCH_RE.test(fragment)) throw new InvalidSource(`invalid branch ${JSON.stringify(fragment.slice(0, 80))} in the #fragment of the git source`);
  const bare = new URL(url.href);
  bare.hash = '';
  const remote = url.protocol === 'git:' ? bare.href : bare.href.replace(/^git\+/, '');
  return { remote, branch: fragment === '' ? null : fragment };
}

/** The environment git runs in: no configuration but git's defaults, no prompt, three transports. */
function gitEnv(home: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, LANG: 'C', GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null', GIT_ALLOW_PROTOCOL: 'git:http:https', GIT_ASKPASS: '/bin/false', SSH_ASKPASS: '/bin/false',
  };
}

async function sizeOf(dir: string): Promise<number> {
  let total = 0;
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) total += await sizeOf(path);
    else total += await stat(path).then((s) => s.size, () => 0);
  }
  return total;
}

/** Runs `git clone`, killed past its time or size limit; resolves when it succeeded. */
function clone(args: string[], dir: string, home: string, source: string, opts: GitOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { env: gitEnv(home), stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let stopped: Error | null = null;
    const stop = (err: Error) => {
      stopped ??= err;
      child.kill('SIGKILL');
    };
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      if (stderr.length < STDERR_MAX) stderr += chunk;
    });
    const timer = setTimeout(() => stop(new BadPackage(`the git source ${source} did not answer within ${Math.round((opts.timeoutMs ?? 60_000) / 1000)} s`)), opts.timeoutMs ?? 60_000);
    const tooLarge = () => new BadPackage(`the git source ${source} is larger than ${opts.maxBytes} bytes (apps.maxUnpackedBytes)`);
    const watch = setInterval(() => {
      void sizeOf(dir).then((size) => {
        if (size > opts.maxBytes) stop(tooLarge());
      });
    }, WATCH_MS);
    const done = (err: Error | null) => {
      clearTimeout(timer);
      clearInterval(watch);
      if (err) reject(err);
      else resolve();
    };
    child.on('error', (err: NodeJS.ErrnoException) => {
      done(err.code === 'ENOENT' ? new InvalidSource('git sources need git on the server (Debian package git), which is not installed') : err);
    });
    child.on('close', (code) => {
      if (stopped) return done(stopped);
      // a clone that ended between two looks is measured once more
      if (code === 0) return void sizeOf(dir).then((size) => done(size > opts.maxBytes ? tooLarge() : null), done);
      const said = stderr.split('\n').map((l) => l.replace(/^(fatal|error): /, '').trim()).filter((l) => l !== '' && !l.startsWith('Cloning into'));
      done(new BadPackage(`the git source ${source} could not be cloned: ${(said[0] ?? `git exited with ${code}`).slice(0, 300)}`));
    });
  });
}

/** A plain tarball of the clone's HEAD (git archive's stdout); an error of git ends the stream with that error. */
function archive(gitDir: string, home: string): Readable {
  const child = spawn('git', ['--git-dir', gitDir, 'archive', '--format=tar', 'HEAD'], { env: gitEnv(home), stdio: ['ignore', 'pipe', 'ignore'] });
  child.on('close', (code) => {
    if (code !== 0) child.stdout.destroy(new BadPackage(`git archive of the clone failed (exit ${code})`));
  });
  return child.stdout;
}

/**
 * Clones the branch of a git source into `scratchDir`, then runs `use` with a function that opens the tarball of its
 * last commit; the clone is removed afterwards, whatever happened.
 */
export async function withGitClone<T>(url: URL, scratchDir: string, opts: GitOptions, use: (open: () => Promise<Readable>) => Promise<T>): Promise<T> {
  const { remote, branch } = gitRemote(url);
  const source = shownUrl(url.href);
  const work = join(scratchDir, `git-${randomUUID()}`);
  const gitDir = join(work, 'repo.git');
  await mkdir(work, { recursive: true, mode: 0o700 });
  try {
    const args = ['clone', '--quiet', '--bare', '--depth', '1', '--single-branch', '--no-tags', ...(branch ? ['--branch', branch] : []), '--', remote, gitDir];
    await clone(args, work, work, source, opts);
    return await use(async () => archive(gitDir, work));
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
