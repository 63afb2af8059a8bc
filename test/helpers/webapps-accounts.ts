/**
 * For the Accounts app's tests: the fixture konnector test/fixtures/konnectors/accounts-demo (reads its account, logs
 * line after line, succeeds with the password "good-pass", else fails with LOGIN_FAILED) packed as a tarball, served
 * from a local package server and installed on the instance through `POST /konnectors/<slug>?Source=`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { until } from './jobs.js';
import { startPackageServer, type PackageServer } from './app-packages.js';
import type { WebappsHearth } from './webapps.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/konnectors/accounts-demo/', import.meta.url));
export const DEMO_SLUG = 'accounts-demo';
export const GOOD_PASSWORD = 'good-pass';

export async function installDemoKonnector(w: WebappsHearth): Promise<PackageServer> {
  const pkgs = await startPackageServer();
  const files: Record<string, string> = {};
  for (const name of ['manifest.konnector', 'package.json', 'index.js']) files[name] = readFileSync(join(FIXTURE, name), 'utf8');
  const url = await pkgs.add(`${DEMO_SLUG}-1.0.0`, files);
  const token = await w.token('io.cozy.konnectors');
  const res = await w.api('POST', `/konnectors/${DEMO_SLUG}?Source=${encodeURIComponent(url)}`, token);
  if (res.status !== 202) throw new Error(`installing ${DEMO_SLUG}: ${res.status} ${res.text}`);
  let state = '';
  await until(async () => {
    state = (await w.api('GET', `/konnectors/${DEMO_SLUG}`, token)).body?.data?.attributes?.state ?? '';
    return state === 'ready' || state === 'errored';
  }, 60_000);
  if (state !== 'ready') throw new Error(`${DEMO_SLUG} did not install: ${state}`);
  return pkgs;
}

/** The io.cozy.accounts documents of the instance as stored (read with a CLI token: never decrypted). */
export async function storedAccounts(w: WebappsHearth): Promise<Array<Record<string, unknown> & { _id: string; auth?: Record<string, unknown> }>> {
  const res = await w.api('GET', '/data/io.cozy.accounts/_all_docs?include_docs=true', await w.token('io.cozy.accounts'));
  if (res.status === 404) return [];
  return (res.body?.rows ?? []).map((r: { doc: Record<string, unknown> }) => r.doc).filter((d: { _id: string }) => !d._id.startsWith('_design'));
}

/** The konnector triggers of the instance (as /jobs/triggers lists them). */
export async function konnectorTriggers(w: WebappsHearth): Promise<Array<{ id: string; attributes: { message: { account?: string; konnector?: string }; arguments: string; type: string } }>> {
  const res = await w.api('GET', '/jobs/triggers?Worker=konnector', await w.token('io.cozy.triggers'));
  return res.body?.data ?? [];
}
