/**
 * What the Store asks the stack: the registries' catalogue (`GET /registry`, cursor after cursor), one application
 * (`GET /registry/<slug>`), the installed apps and konnectors (`/apps`, `/konnectors`), and the operations (install,
 * update, uninstall) whose progress comes from the stack's event stream (`Accept: text/event-stream`).
 */
import type { AppClient } from '../../shared/client';

export type Kind = 'webapp' | 'konnector';
export type Perm = { type: string; verbs?: string[]; values?: string[]; description?: string };
export type Manifest = {
  slug: string; name?: string; type?: Kind; editor?: string; version?: string; icon?: string;
  categories?: string[]; category?: string; short_description?: string; long_description?: string;
  locales?: Record<string, Record<string, unknown>>; screenshots?: string[]; permissions?: Record<string, Perm>;
  source?: string; developer?: { name?: string; url?: string }; support?: string; [k: string]: unknown;
};
export interface RegistryVersion { slug: string; type: Kind; version: string; size?: string; created_at?: string; manifest: Manifest }
export interface RegistryApp { slug: string; type: Kind; editor?: string; category?: string; latest_version?: RegistryVersion; maintenance_activated?: boolean; [k: string]: unknown }
export interface Installed extends Manifest { slug: string; type: Kind; state: string; version: string; source?: string; available_version?: string; error?: string; related?: string }

/** The built-in apps: uninstalling one gets a warning. */
export const BUILTIN = ['home', 'drive', 'settings', 'store', 'accounts'];
/** The most applications the Store reads from the registries (cursor after cursor, 100 a page). */
const MAX_CATALOGUE = 2000;

// cozy-client types its stack client as any: what the Store calls of it
interface StackClient {
  fetchJSON<T>(method: string, path: string, body?: unknown): Promise<T>;
  fetch(method: string, path: string, body: unknown, opts: { headers: Record<string, string>; throwFetchErrors: boolean }): Promise<Response>;
}
const stack = (client: AppClient): StackClient => client.getStackClient() as StackClient;
export const routeOf = (kind: Kind): string => (kind === 'konnector' ? '/konnectors' : '/apps');

/**
 * Every application of the registries (stable channel), as far as MAX_CATALOGUE; `partial` when the stack could not
 * read one of the registries (its `meta.unreachable`): the apps of that registry are missing.
 */
export async function catalogue(client: AppClient): Promise<{ apps: RegistryApp[]; partial: boolean }> {
  const out: RegistryApp[] = [];
  let partial = false;
  let cursor = '';
  for (;;) {
    const q = `/registry?limit=100&versionsChannel=stable&latestChannelVersion=stable${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const page = await stack(client).fetchJSON<{ data: RegistryApp[]; meta?: { next_cursor?: string; unreachable?: number } }>('GET', q);
    out.push(...page.data.filter((a) => a.latest_version));
    if ((page.meta?.unreachable ?? 0) > 0) partial = true;
    const next = page.meta?.next_cursor;
    if (!next || next === cursor || out.length >= MAX_CATALOGUE || page.data.length === 0) return { apps: out, partial };
    cursor = next;
  }
}

export async function application(client: AppClient, slug: string): Promise<RegistryApp> {
  return stack(client).fetchJSON<RegistryApp>('GET', `/registry/${encodeURIComponent(slug)}`);
}

interface Resource { attributes: Installed; links?: { related?: string } }
const fromResource = (r: Resource): Installed => ({ ...r.attributes, ...(r.links?.related ? { related: r.links.related } : {}) });

/** The installed web apps and konnectors, by slug. */
export async function installedApps(client: AppClient): Promise<Map<string, Installed>> {
  const lists = await Promise.all((['webapp', 'konnector'] as const).map((k) => stack(client).fetchJSON<{ data: Resource[] }>('GET', `${routeOf(k)}/?limit=1000`)));
  return new Map(lists.flatMap((l) => l.data.map(fromResource)).map((a) => [a.slug, a]));
}

/** One installed app (the stack runs its lazy update first), or null when it is not installed. */
export async function installedApp(client: AppClient, kind: Kind, slug: string): Promise<Installed | null> {
  try {
    return fromResource((await stack(client).fetchJSON<{ data: Resource }>('GET', `${routeOf(kind)}/${encodeURIComponent(slug)}`)).data);
  } catch (e) {
    if ((e as { status?: number }).status === 404) return null;
    throw e;
  }
}

/** An operation that ended in an error event: the stack's message, shown with what to do. */
export class OperationError extends Error {}

/** Reads `event: state` / `event: error` blocks of a text/event-stream body, calling `onState` with each state. */
export async function readProgress(body: ReadableStream<Uint8Array>, onState: (app: Installed) => void): Promise<Installed | null> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  let last: Installed | null = null;
  const block = (text: string) => {
    let event = 'message';
    let data = '';
    for (const line of text.split(/\r?\n/)) {
      if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data += line.slice(5).trim();
    }
    if (!data) return;
    if (event === 'error') throw new OperationError(String(JSON.parse(data)));
    if (event === 'state') {
      last = fromResource((JSON.parse(data) as { data: Resource }).data);
      onState(last);
    }
  };
  for (;;) {
    const { done, value } = await reader.read();
    if (value) buf += decoder.decode(value, { stream: true });
    const parts = buf.split(/\r?\n\r?\n/);
    buf = parts.pop() ?? '';
    for (const p of parts) block(p);
    if (done) break;
  }
  if (buf.trim()) block(buf);
  return last;
}

/** Installs (POST) or updates (PUT, the new permissions accepted), following the stack's event stream. */
export async function operate(client: AppClient, op: 'install' | 'update', kind: Kind, slug: string, onState: (app: Installed) => void): Promise<Installed | null> {
  const path = `${routeOf(kind)}/${encodeURIComponent(slug)}${op === 'update' ? '?PermissionsAcked=true' : ''}`;
  const res = await stack(client).fetch(op === 'install' ? 'POST' : 'PUT', path, undefined, { headers: { Accept: 'text/event-stream' }, throwFetchErrors: true });
  if (!res.body) throw new OperationError('no progress stream');
  const last = await readProgress(res.body, onState);
  if (last?.state === 'errored') throw new OperationError(last.error ?? 'errored');
  return last;
}

export async function uninstall(client: AppClient, kind: Kind, slug: string): Promise<void> {
  await stack(client).fetchJSON('DELETE', `${routeOf(kind)}/${encodeURIComponent(slug)}`);
}
