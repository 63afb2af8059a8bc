/**
 * What a web app is on an instance, read through the server's own interfaces (the tests of the install journal: crash
 * and failure): its doc, its permission rules, its service triggers (id → schedule), the code it references, and the
 * operations on it left in flight.
 */
import { findApp } from '../../src/apps/repo.js';
import type { Instance } from '../../src/instances/types.js';
import type { Hearth } from '../../src/server/compose.js';

export async function appState(hearth: Hearth, instance: Instance, slug: string) {
  const doc = await findApp(hearth.storeOf(instance), 'webapp', slug);
  const triggers = (await hearth.jobs.scheduler.list(instance.domain, { workers: ['service'] })).filter((t) => (t.message as { slug?: string }).slug === slug);
  return {
    doc: doc && { state: doc.state, version: doc.version, checksum: doc.checksum, services: doc.services },
    permissions: (await hearth.perms.appPermissions(instance, 'app', slug))?.permissions,
    triggers: Object.fromEntries(triggers.map((t) => [t._id, t.arguments])),
    refs: (await hearth.appCode.refs({ instanceId: instance.id })).filter((r) => r.slug === slug).map((r) => r.sha256),
    inFlight: (await hearth.appCode.inFlight()).filter((i) => i.instanceId === instance.id && i.slug === slug).length,
  };
}

export type AppState = Awaited<ReturnType<typeof appState>>;
