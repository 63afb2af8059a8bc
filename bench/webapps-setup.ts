/**
 * The instance the built-in apps' benchmark measures (bench/webapps.bench.ts): a Hearth with the five apps built from
 * webapps/ (test/helpers/webapps.ts), plus
 *   - `bare`, a tiny app the bench packs itself: a static page that fetches `GET /files/:id` of the folder named in its
 *     URL fragment with its app token and lists the names as `<li data-file-id>` (the reference for Drive's listing);
 *   - the `sample` konnector of test/fixtures (so that Home and Accounts have a konnector to show);
 *   - realistic content: folders, documents, photos with EXIF dates and thumbnails, notifications;
 *   - folders of 1,000 and 10,000 small files (for Lighthouse and the listing time).
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { startPackageServer, type PackageServer } from '../test/helpers/app-packages.js';
import { jpegWithExif } from '../test/helpers/images.js';
import { until } from '../test/helpers/jobs.js';
import { startWithWebapps, type WebappsHearth } from '../test/helpers/webapps.js';
import { DEFAULTS } from '../src/config/schema.js';
import { ROOT } from './lib.js';

export const ROOT_DIR = 'io.cozy.files.root-dir';

/** The bare listing page's script: no framework, no cozy-client, one fetch. */
const BARE_JS = `(function () {
  var root = document.querySelector('[role=application]');
  var d = JSON.parse(root.getAttribute('data-cozy'));
  var id = decodeURIComponent(location.hash.slice(1));
  fetch(location.protocol + '//' + d.domain + '/files/' + encodeURIComponent(id), {
    credentials: 'include', headers: { Authorization: 'Bearer ' + d.token, Accept: 'application/vnd.api+json' }
  }).then(function (r) { return r.json(); }).then(function (doc) {
    var ul = document.createElement('ul');
    (doc.included || []).forEach(function (f) {
      var li = document.createElement('li');
      li.setAttribute('data-file-id', f.id);
      li.textContent = f.attributes.name;
      ul.appendChild(li);
    });
    root.appendChild(ul);
  });
})();
`;

const BARE_HTML = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Bare listing</title></head>
<body><main role="application" data-cozy="{{.CozyData}}"></main><script src="bare.js" defer></script></body></html>
`;

export const BARE_MANIFEST = {
  name: 'Bare listing', slug: 'bare', type: 'webapp', editor: 'Hearth bench', version: '1.0.0', icon: 'icon.svg',
  permissions: { files: { type: 'io.cozy.files', verbs: ['GET'], description: 'List the folder it is asked for' } },
  routes: { '/': { folder: '/', index: 'index.html', public: false } },
};
const ICON = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16"/></svg>';

export interface BenchInstance {
  w: WebappsHearth;
  packages: PackageServer;
  /** A CLI token on io.cozy.files. */
  files: string;
  close(): Promise<void>;
}

/** Packs `bare` and the `sample` konnector into a package registry, starts the Hearth and installs them beside the five apps. */
export async function startBenchInstance(opts: { label?: string; locale?: string } = {}): Promise<BenchInstance> {
  const packages = await startPackageServer();
  await packages.publish({ 'manifest.webapp': BARE_MANIFEST, 'index.html': BARE_HTML, 'bare.js': BARE_JS, 'icon.svg': ICON });
  const konnector = join(ROOT, 'test', 'fixtures', 'konnectors', 'sample');
  const sample: Record<string, string | object> = Object.fromEntries(readdirSync(konnector).map((f) => [f, readFileSync(join(konnector, f), 'utf8')]));
  sample['manifest.konnector'] = { version: '1.0.0', ...(JSON.parse(sample['manifest.konnector'] as string) as object) };
  await packages.publish(sample);
  let w: WebappsHearth;
  try {
    w = await startWithWebapps({ label: opts.label ?? 'bench', ...(opts.locale ? { locale: opts.locale } : {}), config: { apps: { ...DEFAULTS.apps, registries: packages.url } } });
  } catch (e) {
    await packages.close();
    throw e;
  }
  const apps = await w.token('io.cozy.apps io.cozy.konnectors');
  const installs = [await w.api('POST', '/apps/bare', apps), await w.api('POST', '/konnectors/sample', apps)];
  for (const r of installs) if (r.status !== 202) throw new Error(`installing a bench package: ${r.status} ${r.text}`);
  await until(async () => {
    const states = await Promise.all(['/apps/bare', '/konnectors/sample'].map(async (p) => (await w.api('GET', p, apps)).body?.data?.attributes?.state));
    return states.every((s) => s === 'ready');
  }, 60_000);
  const files = await w.token('io.cozy.files');
  return { w, packages, files, close: async () => { await w.close(); await packages.close(); } };
}

/** POST /files/:dir (a folder when `content` is undefined); the new document's id. */
export async function create(b: BenchInstance, dir: string, name: string, content?: Buffer | string, type = 'text/plain'): Promise<string> {
  const kind = content === undefined ? 'directory' : 'file';
  const res = await b.w.h.req('POST', `/files/${dir}?Type=${kind}&Name=${encodeURIComponent(name)}`, {
    host: b.w.domain, token: b.files, ...(content === undefined ? {} : { raw: content, headers: { 'content-type': type } }),
  });
  if (res.status !== 201) throw new Error(`creating ${name}: ${res.status} ${res.text.slice(0, 300)}`);
  return String(res.body.data.id);
}

/** A folder of `count` small text files, created `concurrency` at a time; its id. */
export async function folderOf(b: BenchInstance, parent: string, name: string, count: number, concurrency = 8): Promise<string> {
  const dir = await create(b, parent, name);
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) {
      const i = next++;
      await create(b, dir, `note-${String(i).padStart(5, '0')}.txt`, `note ${i}\n`);
    }
  }));
  return dir;
}

/** Folders, documents, photos (thumbnails made by the job system), notifications: what a person's instance holds. */
export async function realisticContent(b: BenchInstance): Promise<void> {
  const docs = await create(b, ROOT_DIR, 'Documents');
  const photos = await create(b, ROOT_DIR, 'Photos');
  for (const name of ['Administrative', 'Bills', 'Work']) await create(b, docs, name);
  await create(b, ROOT_DIR, 'Music');
  await create(b, docs, 'Shopping list.txt', 'eggs\nflour\nmilk\n');
  await create(b, docs, 'Meeting notes.md', '# Monday\n- budget\n- hiring\n', 'text/markdown');
  await create(b, ROOT_DIR, 'Budget 2026.csv', 'month,amount\njan,1200\nfeb,1150\n', 'text/csv');
  const taken = ['2025:07:14 10:00:00', '2025:08:02 18:30:00', '2025:12:24 20:00:00', '2026:03:01 09:15:00', '2026:05:20 14:45:00', '2026:06:11 08:00:00'];
  const ids: string[] = [];
  for (const [i, t] of taken.entries()) ids.push(await create(b, photos, `IMG_${1000 + i}.jpg`, await jpegWithExif(1200, 800, { taken: t }), 'image/jpeg'));
  // the thumbnail worker runs on the upload events; wait for its links (the screenshots show them)
  await until(async () => {
    const res = await b.w.api('GET', `/files/${photos}`, b.files);
    return (res.body?.included ?? []).filter((f: { links?: { small?: string } }) => f.links?.small).length === ids.length;
  }, 60_000).catch(() => undefined);
  const notify = await b.w.token('io.cozy.notifications:POST');
  const notes = [
    { category: 'system', title: 'Backup finished', message: 'Your phone saved 42 new photos.' },
    { category: 'system', title: 'Storage almost full', message: 'You are using 85 % of your storage.' },
  ];
  for (const n of notes) {
    const res = await b.w.api('POST', '/notifications', notify, { data: { type: 'io.cozy.notifications', attributes: n } }, { 'content-type': 'application/vnd.api+json' });
    if (res.status >= 300) throw new Error(`sending a notification: ${res.status} ${res.text.slice(0, 300)}`);
  }
}

/**
 * Publishes the apps built in `dir/<slug>/` (scripts/build-webapps.mjs's buildApp) as `<prefix><slug>` to the bench's
 * package server and installs them beside the built-in ones (their intents dropped: the built-in apps keep theirs).
 */
export async function installBuilds(b: BenchInstance, dir: string, slugs: string[], prefix: string): Promise<void> {
  const token = await b.w.token('io.cozy.apps');
  for (const slug of slugs) {
    const files: Record<string, string | object> = {};
    for (const f of readdirSync(join(dir, slug))) if (statSync(join(dir, slug, f)).isFile() && !/\.(br|gz)$/.test(f)) files[f] = readFileSync(join(dir, slug, f), 'utf8');
    const manifest = JSON.parse(files['manifest.webapp'] as string) as Record<string, unknown>;
    delete manifest.intents;
    files['manifest.webapp'] = { ...manifest, slug: `${prefix}${slug}` };
    await b.packages.publish(files);
    const r = await b.w.api('POST', `/apps/${prefix}${slug}`, token);
    if (r.status !== 202) throw new Error(`installing ${prefix}${slug}: ${r.status} ${r.text}`);
    await until(async () => (await b.w.api('GET', `/apps/${prefix}${slug}`, token)).body?.data?.attributes?.state === 'ready', 60_000);
  }
}
