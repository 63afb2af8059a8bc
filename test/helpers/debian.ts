/**
 * Real clients from Debian packages for end-to-end tests (litmus, rclone…). CI installs them up
 * front (.ci/run); when one is missing here, we install it if we are root, else fail with how to
 * fix it (never skip).
 */
import { spawnSync } from 'node:child_process';

/** The packages found installed by this process (dpkg-query is asked once for each). */
const known = new Set<string>();

function installed(pkg: string): boolean {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes('install ok installed');
}

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { stdio: 'inherit', timeout: 10 * 60_000, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (r.error) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status ?? r.signal}`);
}

/** Makes sure the Debian package `pkg` is installed: installs it as root, else throws. */
export function ensureDebianPackage(pkg: string): void {
  if (known.has(pkg)) return;
  if (installed(pkg)) {
    known.add(pkg);
    return;
  }
  if (process.getuid?.() !== 0) throw new Error(`Debian package ${pkg} is missing: run apt-get install ${pkg} as root`);
  run('apt-get', ['update']);
  run('apt-get', ['install', '-y', pkg]);
  if (!installed(pkg)) throw new Error(`apt-get install ${pkg} did not install it`);
  known.add(pkg);
}
