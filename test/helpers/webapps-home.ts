/**
 * Home's test fixtures on a Hearth with the built-in apps: a konnector installed from a package (the sandbox test
 * konnector, test/fixtures/konnectors/sample) whose run really fails with LOGIN_FAILED, files uploaded through
 * /files, notifications sent through /notifications.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import type { PackageServer } from './app-packages.js';
import { until } from './jobs.js';
import type { WebappsHearth } from './webapps.js';

const SAMPLE = fileURLToPath(new URL('../fixtures/konnectors/sample/index.js', import.meta.url));
const ICON = '<svg xmlns="http://www.w3.org/2000/svg" width="32" height="32"><rect width="32" height="32" rx="6" fill="#0f766e"/></svg>';
const TRIGGERS = 'io.cozy.triggers:ALL:konnector:worker io.cozy.jobs:GET:konnector:worker';

/** Installs konnector `slug` (named `name`) from a package of `pkgs`. */
export async function installKonnector(w: WebappsHearth, pkgs: PackageServer, slug: string, name: string): Promise<void> {
  const manifest = {
    slug, name, type: 'konnector', language: 'node', version: '1.0.0', main: 'index.js', icon: 'icon.svg',
    locales: { fr: { name: `${name} (fr)` } }, fields: { login: { type: 'text' }, password: { type: 'password' } },
    permissions: { accounts: { type: 'io.cozy.accounts', verbs: ['GET'], description: 'its account' } },
  };
  const url = await pkgs.add(`${slug}-1.0.0`, { 'manifest.konnector': manifest, 'package.json': '{"type":"module"}', 'index.js': readFileSync(SAMPLE, 'utf8'), 'icon.svg': ICON });
  const token = await w.token('io.cozy.konnectors');
  const res = await w.api('POST', `/konnectors/${slug}?Source=${encodeURIComponent(url)}`, token);
  expect(res.status, res.text).toBe(202);
  await until(async () => (await w.api('GET', `/konnectors/${slug}`, token)).body?.data?.attributes?.state === 'ready', 60_000);
}

/**
 * An account and a trigger for `slug`, launched once by hand; `mode` is the sample konnector's behaviour
 * (`login-failed`, `sleep`…), `timeout` the run's limit in seconds, after which the run ends in error with no second try
 * (a konnector's job is otherwise tried twice, 15 s apart). Returns the job's id.
 */
export async function launchKonnector(w: WebappsHearth, slug: string, mode: string, timeout?: number): Promise<string> {
  const account = await w.api('POST', '/data/io.cozy.accounts/', await w.token('io.cozy.accounts'), { account_type: slug, auth: { login: 'alice' } });
  expect(account.status, account.text).toBe(201);
  const token = await w.token(TRIGGERS);
  const trigger = await w.api('POST', '/jobs/triggers', token, {
    data: { attributes: { type: '@cron', arguments: '0 0 3 * * *', worker: 'konnector', message: { konnector: slug, account: account.body.id, mode }, ...(timeout ? { options: { timeout, max_exec_count: 1 } } : {}) } },
  });
  expect(trigger.status, trigger.text).toBe(201);
  const launched = await w.api('POST', `/jobs/triggers/${trigger.body.data.id}/launch`, token);
  expect(launched.status, launched.text).toBe(201);
  return launched.body.data.id as string;
}

/** The state of job `id` once it ended (done or errored). */
export async function jobEnd(w: WebappsHearth, id: string): Promise<{ state: string; error?: string }> {
  const token = await w.token(TRIGGERS);
  let job: { state: string; error?: string } = { state: 'queued' };
  await until(async () => {
    job = (await w.api('GET', `/jobs/${id}`, token)).body.data.attributes;
    return job.state === 'done' || job.state === 'errored';
  }, 90_000);
  return job;
}

/** Uploads a text file named `name` into a new folder `folder` at the root; returns the file's id and its folder's id. */
export async function uploadFile(w: WebappsHearth, folder: string, name: string, content: string, type = 'text/plain'): Promise<{ id: string; dirId: string }> {
  const token = await w.token('io.cozy.files');
  let dir = await w.api('GET', `/files/metadata?Path=${encodeURIComponent(`/${folder}`)}`, token);
  if (dir.status === 404) dir = await w.api('POST', `/files/io.cozy.files.root-dir?Type=directory&Name=${encodeURIComponent(folder)}`, token);
  const dirId = dir.body.data.id as string;
  const file = await w.h.req('POST', `/files/${dirId}?Type=file&Name=${encodeURIComponent(name)}`, { host: w.domain, token, raw: content, headers: { 'content-type': type } });
  expect(file.status, file.text).toBe(201);
  return { id: file.body.data.id as string, dirId };
}

/** Sends a notification of the stack's `system` category (as the CLI does); returns its id. */
export async function notify(w: WebappsHearth, title: string, message?: string): Promise<string> {
  const res = await w.api('POST', '/notifications', await w.token('io.cozy.notifications:POST'), { data: { type: 'io.cozy.notifications', attributes: { category: 'system', title, ...(message ? { message } : {}) } } }, { 'content-type': 'application/vnd.api+json' });
  expect(res.status, res.text).toBe(201);
  return res.body.data.id as string;
}
