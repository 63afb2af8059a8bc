/**
 * The built-in apps as an older commit built them, installed beside this tree's as `old<slug>`, for the benches that
 * compare the two in one run (webapps-ab.ts, webapps-realtime.ts). The commit's sources are taken with `git archive`
 * into a temporary folder and built with its own scripts/build-webapps.mjs.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { until } from '../test/helpers/jobs.js';
import { ROOT } from './lib.js';
import type { BenchInstance } from './webapps-setup.js';

/** Builds `slugs` as `ref` had them under `tmp`; the folder of their builds. */
export async function buildOld(ref: string, slugs: string[], tmp: string): Promise<string> {
  const src = join(tmp, 'src');
  execFileSync('sh', ['-c', `mkdir -p "${src}" && git -C "${ROOT}" archive "${ref}" | tar -x -C "${src}"`]);
  symlinkSync(join(ROOT, 'node_modules'), join(src, 'node_modules'));
  const { buildApp } = (await import(pathToFileURL(join(src, 'scripts', 'build-webapps.mjs')).href)) as { buildApp(slug: string, out: string): Promise<unknown> };
  for (const slug of slugs) await buildApp(slug, join(tmp, 'old'));
  return join(tmp, 'old');
}

/** Publishes each build of `dir` as `old<slug>` to the bench's package server and installs it. */
export async function installOld(b: BenchInstance, dir: string, slugs: string[]): Promise<void> {
  const token = await b.w.token('io.cozy.apps');
  for (const slug of slugs) {
    const files: Record<string, string | object> = {};
    for (const f of readdirSync(join(dir, slug))) if (statSync(join(dir, slug, f)).isFile() && !/\.(br|gz)$/.test(f)) files[f] = readFileSync(join(dir, slug, f), 'utf8');
    const manifest = JSON.parse(files['manifest.webapp'] as string) as Record<string, unknown>;
    delete manifest.intents;
    files['manifest.webapp'] = { ...manifest, slug: `old${slug}` };
    await b.packages.publish(files);
    const r = await b.w.api('POST', `/apps/old${slug}`, token);
    if (r.status !== 202) throw new Error(`installing old${slug}: ${r.status} ${r.text}`);
    await until(async () => (await b.w.api('GET', `/apps/old${slug}`, token)).body?.data?.attributes?.state === 'ready', 60_000);
  }
}
