/**
 * A real HTTP app registry for the tests, answering cozy's registry API (docs/registry.md of cozy-stack)
 * from in-memory fixtures on a loopback port: `/registry` (cursor, limit, sort, filter[…],
 * versionsChannel, latestChannelVersion; meta.next_cursor), `/registry/maintenance`, `/registry/<slug>`,
 * `/registry/<slug>/<version>`, `/registry/<slug>/<channel>/latest`, the icons, screenshots and tarballs.
 * `mode` makes it fail (500) or hang, to test unreachable registries.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { pageOf } from '../../src/apps/registry/query.js';
import { latestOn, versionLists } from '../../src/apps/registry/versions.js';
import { isChannel } from '../../src/apps/registry/versions.js';
import type { Channel, RegistryApp, RegistryVersion } from '../../src/apps/registry/types.js';
import type { AppKind } from '../../src/apps/types.js';

export interface FixtureApp {
  slug: string;
  type: AppKind;
  editor: string;
  category?: string;
  maintenance_activated?: boolean;
  maintenance_options?: Record<string, unknown>;
  /** version → created_at */
  versions: Record<string, string>;
}

export interface FixtureRegistry {
  url: string;
  /** Every request path (with its query) the registry received. */
  requests: string[];
  /** ok; fail: 500 to everything; hang: never answers; loop: lists answer a next cursor that never moves on. */
  mode: 'ok' | 'fail' | 'hang' | 'loop';
  tarball(slug: string, version: string): Buffer;
  close(): Promise<void>;
}

export const ICON_SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"/>';

export async function startFixtureRegistry(apps: FixtureApp[]): Promise<FixtureRegistry> {
  const hanging: ServerResponse[] = [];
  const state = { mode: 'ok' as FixtureRegistry['mode'], requests: [] as string[] };
  let base = '';
  const tarball = (slug: string, version: string) => Buffer.from(`tarball of ${slug} ${version}`);
  const versionsOf = (a: FixtureApp): RegistryVersion[] => Object.entries(a.versions).map(([version, created_at]) => ({
    slug: a.slug, type: a.type, version, created_at, url: `${base}tarballs/${a.slug}/${version}.tar.gz`, size: String(tarball(a.slug, version).length),
    sha256: createHash('sha256').update(tarball(a.slug, version)).digest('hex'), tar_prefix: '', manifest: { slug: a.slug, type: a.type, name: a.slug, version, editor: a.editor, icon: 'icon.svg' },
  }));
  const appObject = (a: FixtureApp, vc: Channel, lc: Channel): RegistryApp => {
    const all = versionsOf(a);
    const latest = latestOn(all, lc);
    const { versions: _, ...fields } = a;
    return { ...fields, versions: versionLists(all, vc), ...(latest ? { latest_version: latest } : {}) };
  };
  const send = (res: ServerResponse, status: number, body: unknown, type = 'application/json') => {
    res.writeHead(status, { 'Content-Type': type });
    res.end(typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body));
  };
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    state.requests.push(req.url ?? '');
    if (state.mode === 'hang') return void hanging.push(res);
    if (state.mode === 'fail') return send(res, 500, { message: 'broken' });
    const url = new URL(req.url ?? '/', base);
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    if (parts[0] === 'tarballs' && parts.length === 3) return send(res, 200, tarball(parts[1] as string, (parts[2] as string).replace(/\.tar\.gz$/, '')), 'application/gzip');
    if (parts[0] !== 'registry') return send(res, 404, { message: 'not found' });
    const q = url.searchParams;
    if (parts.length === 1) {
      const channel = (k: string, d: Channel): Channel => (isChannel(q.get(k) ?? '') ? (q.get(k) as Channel) : d);
      const vc = channel('versionsChannel', 'dev');
      const lc = channel('latestChannelVersion', 'stable');
      const filter: Record<string, string> = {};
      for (const [k, v] of q) if (/^filter\[\w+\]$/.test(k)) filter[k.slice(7, -1)] = v;
      const all = apps.map((a) => appObject(a, vc, lc)).filter((a) => a.latest_version);
      const page = pageOf(all, { filter, cursor: Number(q.get('cursor') ?? 0), limit: Number(q.get('limit') ?? 100), ...(q.get('sort') ? { sort: q.get('sort') as string } : {}) });
      const next = state.mode === 'loop' ? '0' : page.next === null ? undefined : String(page.next);
      return send(res, 200, { data: page.data, meta: { count: page.data.length, ...(next === undefined ? {} : { next_cursor: next }) } });
    }
    if (parts.length === 2 && parts[1] === 'maintenance') return send(res, 200, apps.filter((a) => a.maintenance_activated).map((a) => appObject(a, 'dev', 'stable')));
    const app = apps.find((a) => a.slug === parts[1]);
    if (!app) return send(res, 404, { message: 'Application not found' });
    const rest = parts.slice(2);
    if (rest.length === 0) return send(res, 200, appObject(app, 'dev', 'stable'));
    const versions = versionsOf(app);
    const isAsset = (p: string[]) => p[0] === 'icon' || p[0] === 'partnership_icon' || (p[0] === 'screenshots' && p.length > 1);
    if (isAsset(rest)) return send(res, 200, rest[0] === 'screenshots' ? Buffer.from(`png ${rest.join('/')}`) : ICON_SVG, rest[0] === 'screenshots' ? 'image/png' : 'image/svg+xml');
    const v = versions.find((x) => x.version === rest[0]);
    if (rest.length === 2 && rest[1] === 'latest' && isChannel(rest[0] as string)) {
      const latest = latestOn(versions, rest[0] as Channel);
      return latest ? send(res, 200, latest) : send(res, 404, { message: 'Version not found' });
    }
    if (!v) return send(res, 404, { message: 'Version not found' });
    if (rest.length === 1) return send(res, 200, v);
    if (rest[1] === 'partnership_icon') {
      // sent gzip-encoded, with the encoded length, as a CDN may
      const body = gzipSync(ICON_SVG);
      res.writeHead(200, { 'Content-Type': 'image/svg+xml', 'Content-Encoding': 'gzip', 'Content-Length': String(body.length) });
      return void res.end(body);
    }
    if (isAsset(rest.slice(1))) return send(res, 200, ICON_SVG, 'image/svg+xml');
    return send(res, 404, { message: 'not found' });
  };
  const server: Server = createServer(handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return {
    url: base,
    requests: state.requests,
    get mode() {
      return state.mode;
    },
    set mode(m) {
      state.mode = m;
    },
    tarball,
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
