/**
 * What the registries offer to the other parts of the apps platform: the web apps that could serve an intent
 * (`/intents`' availableApps) and whether a slug exists there (an app host of a missing app sends the owner to the
 * store). Registries that cannot be reached count as offering nothing (merge.ts skips them).
 */
import type { Manifest } from '../types.js';
import type { Registries } from './types.js';

/** At most this many registry web apps are looked at for one intent (cozy's list routes page at 500 too). */
const MAX_OFFERS = 500;

export function registryWebapps(registries: Registries): () => Promise<Array<{ slug: string; name: string; manifest: Manifest }>> {
  return async () => {
    const page = await registries.list({ filter: { type: 'webapp' }, latestChannelVersion: 'stable', limit: MAX_OFFERS });
    return page.data.flatMap((app) => {
      const manifest = app.latest_version?.manifest as Manifest | undefined;
      return manifest ? [{ slug: app.slug, name: typeof manifest.name === 'string' ? manifest.name : app.slug, manifest }] : [];
    });
  };
}

export function inRegistry(registries: Registries): (slug: string) => Promise<boolean> {
  return async (slug) => (await registries.application(slug).catch(() => null)) !== null;
}
