/**
 * Intents (cozy-stack's model/intent, contract §7 of cozy-apps.md): an app asks which other apps can do an
 * action on a type of document; the answer, stored as an `io.cozy.intents` document of the instance, lists the
 * installed web apps that declare a matching intent (`services`, with the URL each is opened at) or, when none
 * does, the registry's web apps that could (`availableApps`).
 */
import { randomUUID } from 'node:crypto';
import { Forbidden, NotFound } from '../../common/errors.js';
import type { Doc, DocStore } from '../../data/store.js';
import type { Instance } from '../../instances/types.js';
import type { PermissionSet } from '../../permissions/rules.js';
import type { SubdomainMode } from '../hosts.js';
import { findApp, listApps } from '../repo.js';
import { APPS_DOCTYPE, type Manifest } from '../types.js';
import { findIntent, serviceHref } from './match.js';

export const INTENTS_DOCTYPE = 'io.cozy.intents';
const CLIENTS_DOCTYPE = 'io.cozy.oauth.clients';
/** Installed web apps are read in pages of this many. */
const PAGE = 200;

/** The web apps of the instance's registries (their latest stable manifests); [] when no registry is configured. */
export type RegistryWebapps = (instance: Instance) => Promise<Array<{ slug: string; name: string; manifest: Manifest }>>;

export interface IntentDoc {
  _id: string;
  _rev?: string;
  action: string;
  type: string;
  permissions: string[];
  /** Who started the intent (intentClient): `io.cozy.apps/<slug>` for a web app, the source of other tokens, '' for the CLI. */
  client: string;
  services: Array<{ slug: string; href: string }>;
  availableApps?: Array<{ slug: string; name: string }>;
}

export interface IntentsDeps {
  storeOf(instance: Instance): DocStore;
  registryWebapps: RegistryWebapps;
  /** apps.subdomains. */
  mode: SubdomainMode;
}

export interface NewIntent {
  action: string;
  type: string;
  permissions: string[];
}

/** A document, or null when it does not exist. */
export async function docOrNull(store: DocStore, doctype: string, id: string): Promise<Doc | null> {
  return store.get(doctype, id).catch((e: unknown) => {
    if (e instanceof NotFound) return null;
    throw e;
  });
}

/**
 * The client of an intent, as cozy-stack's RequestAppSourceID: the source of the caller's rights (`io.cozy.apps/<slug>`
 * for a web app, `io.cozy.konnectors/<slug>`, a share link's source…), or for an OAuth client whose software_id is
 * `registry://<slug>` that app's `io.cozy.apps/<slug>`. Any valid token may start an intent; a CLI token has no source ('').
 */
export async function intentClient(store: DocStore, set: PermissionSet): Promise<string> {
  const source = set.sourceId ?? '';
  if (set.type === 'oauth') {
    const client = await docOrNull(store, CLIENTS_DOCTYPE, source.slice(source.indexOf('/') + 1));
    const softwareId = typeof client?.software_id === 'string' ? client.software_id : '';
    const slug = /^registry:\/\/([a-z0-9][a-z0-9-]*)(\/.*)?$/.exec(softwareId)?.[1];
    if (slug) return `${APPS_DOCTYPE}/${slug}`;
  }
  return source;
}

/** The part of a client after its doctype (`io.cozy.apps/<slug>` → slug), which cozy-stack takes as an app's slug; null without one. */
export function clientSlugOf(client: string): string | null {
  const slash = client.indexOf('/');
  return slash < 0 ? null : client.slice(slash + 1);
}

/** Every installed web app, in slug order. */
async function installedWebapps(store: DocStore): Promise<Manifest[]> {
  const all: Manifest[] = [];
  for (let start: string | undefined; ;) {
    const page = await listApps(store, 'webapp', { limit: PAGE + 1, ...(start !== undefined ? { startSlug: start } : {}) });
    all.push(...page.slice(0, PAGE));
    if (page.length <= PAGE) return all;
    start = page[PAGE]!.slug;
  }
}

/** Creates the intent: its services among the installed web apps, else the registry's web apps that could serve it. */
export async function createIntent(deps: IntentsDeps, instance: Instance, set: PermissionSet, input: NewIntent, scheme: string): Promise<IntentDoc> {
  const store = deps.storeOf(instance);
  const client = await intentClient(store, set);
  const id = randomUUID().replaceAll('-', '');
  const installed = await installedWebapps(store);
  const services = installed.flatMap((app) => {
    const intent = findIntent(app, input.action, input.type);
    return intent ? [{ slug: app.slug, href: serviceHref({ instanceHost: instance.domain, slug: app.slug, mode: deps.mode, scheme, href: intent.href, intentId: id }) }] : [];
  });
  const doc: IntentDoc = { _id: id, action: input.action, type: input.type, permissions: input.permissions, client, services };
  if (!services.length) {
    const taken = new Set(installed.map((app) => app.slug));
    // a registry that cannot be reached offers nothing; the intent still answers (cozy-stack logs it and goes on)
    doc.availableApps = (await deps.registryWebapps(instance).catch(() => []))
      .filter((app) => !taken.has(app.slug) && findIntent(app.manifest, input.action, input.type))
      .map((app) => ({ slug: app.slug, name: app.name }));
  }
  const { doc: stored } = await store.put(INTENTS_DOCTYPE, doc as unknown as Doc);
  return stored as unknown as IntentDoc;
}

/** An intent, for the token of one of its services only. */
/**
 * The intent for a caller whose rights come from one of its services (cozy-stack's getIntent: the permission's source is
 * `io.cozy.apps/<slug>` of a service): the app's own token, or a share link that app made (its `source_id`); 404 first
 * when there is no such intent, then 403 for any other token.
 */
export async function getIntent(deps: IntentsDeps, instance: Instance, set: PermissionSet, id: string): Promise<IntentDoc> {
  const doc = (await deps.storeOf(instance).get(INTENTS_DOCTYPE, id)) as unknown as IntentDoc;
  if (!doc.services.some((s) => set.sourceId === `${APPS_DOCTYPE}/${s.slug}`)) throw new Forbidden('only the web apps that serve this intent (or their share links) can read it');
  return doc;
}

/**
 * Where the client app runs (what postMessage answers): the URL of the feature flag its manifest names in
 * `client_url_flag`, else the origin of the app of that slug; '' for a client without one (cozy-stack's MarshalJSON).
 */
export async function clientUrl(store: DocStore, client: string, flags: Record<string, unknown>, origin: (slug: string) => string): Promise<string> {
  const slug = clientSlugOf(client);
  if (slug === null) return '';
  const app = await findApp(store, 'webapp', slug);
  const flag = typeof app?.client_url_flag === 'string' ? flags[app.client_url_flag] : undefined;
  return typeof flag === 'string' && /^https?:\/\//.test(flag) ? flag : origin(slug);
}
