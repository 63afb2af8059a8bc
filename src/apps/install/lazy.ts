/**
 * The lazy update (cozy-apps.md §4.6) on `GET /apps/:slug`: an app installed from a registry asks its channel's
 * latest version, then follows src/apps/registry/lazy-update.ts's decision, synchronously. A registry that does
 * not answer, or an update that fails, leaves the app as it was (cozy-stack ignores these errors too).
 */
import type { Instance } from '../../instances/types.js';
import { lazyUpdateChannel, lazyUpdateDecision } from '../registry/lazy-update.js';
import type { Channel } from '../registry/types.js';
import type { AppDoc, AppKind } from '../types.js';
import type { Installer } from './installer.js';

export type LatestVersion = (slug: string, channel: Channel) => Promise<{ version: string } | null>;

export async function lazyUpdate(installer: Installer, latest: LatestVersion, instance: Instance, kind: AppKind, doc: AppDoc): Promise<AppDoc> {
  const channel = lazyUpdateChannel(doc.source);
  if (channel === null || (doc.state !== 'ready' && doc.state !== 'installed')) return doc;
  const found = await latest(doc.slug, channel).catch(() => null);
  const decision = lazyUpdateDecision(doc, found);
  try {
    if (decision.action === 'clear-available-version') return (await installer.clearAvailableVersion(instance, kind, doc.slug)) ?? doc;
    if (decision.action === 'update') {
      const op = await installer.update(instance, kind, doc.slug, {});
      return (await op.done).doc ?? doc;
    }
  } catch {
    // another operation runs, or the app went meanwhile: served as it was read
  }
  return doc;
}
