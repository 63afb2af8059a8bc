/**
 * The installer's code seam (types.ts AppCode) over the code store and package sources of src/apps/code, and
 * the lookup the konnector and service workers use to run installed code.
 */
import type { DocStore } from '../../data/store.js';
import type { Instance } from '../../instances/types.js';
import { fetchPackage, type ResolveRegistry } from '../code/sources.js';
import type { AppCodeStore } from '../code/store.js';
import type { TarLimits } from '../code/tarball.js';
import { findApp } from '../repo.js';
import type { AppCode } from './types.js';

export interface CodeOptions {
  dev: boolean;
  limits: TarLimits;
  /** `registry://` sources (the registries of apps.registries); without it they are refused (422). */
  resolveRegistry?: ResolveRegistry;
}

export function appCodeOf(store: AppCodeStore, opts: CodeOptions): AppCode {
  return {
    fetch: (instance, kind, slug, source) => fetchPackage(store, source, kind, {
      instanceId: instance.id, expectedSlug: slug, dev: opts.dev, limits: opts.limits,
      ...(opts.resolveRegistry ? { resolveRegistry: opts.resolveRegistry } : {}),
    }),
    async release(instance, kind, slug, sha256) {
      await store.release({ instanceId: instance.id, kind, slug, sha256 });
      await store.gc();
    },
    materialize: (sha256) => store.materialize(sha256),
  };
}

/** For the sandbox workers: the stored manifest and the folder of an installed konnector's or web app's code, or null. */
export function installedCodeOf(storeOf: (instance: Instance) => DocStore, store: AppCodeStore) {
  return async (instance: Instance, kind: 'konnector' | 'webapp', slug: string): Promise<{ dir: string; manifest: Record<string, unknown> } | null> => {
    const doc = await findApp(storeOf(instance), kind, slug);
    if (!doc?.checksum || (doc.state !== 'ready' && doc.state !== 'installed' && doc.state !== 'upgrading')) return null;
    return { dir: await store.materialize(doc.checksum), manifest: doc };
  };
}
