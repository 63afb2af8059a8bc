/**
 * The installer's code seam (types.ts AppCode) over the code store and package sources of src/apps/code, and
 * the lookup the konnector and service workers use to run installed code.
 */
import { randomUUID } from 'node:crypto';
import type { DocStore } from '../../data/store.js';
import type { Instance } from '../../instances/types.js';
import type { Readable } from 'node:stream';
import { expectedSha256, fetchPackage, type RegistryVersion, type ResolveRegistry } from '../code/sources.js';
import type { AppCodeStore, CodeRef } from '../code/store.js';
import type { TarLimits } from '../code/tarball.js';
import { appPages, findApp } from '../repo.js';
import type { AppKind } from '../types.js';
import type { AppCode } from './types.js';

export interface CodeOptions {
  dev: boolean;
  limits: TarLimits;
  /** `registry://` sources (the registries of apps.registries); without it they are refused (422). */
  resolveRegistry?: ResolveRegistry;
  /** A local folder registry's tarballs (`file://` URLs), read through the registry that gave them. */
  openRegistryTarball?: (version: RegistryVersion) => Promise<Readable>;
  /**
   * Whether the writes of an operation on this instance (its documents, its triggers) go to the same write-ahead log as
   * the code store's index (store.ts begin `ordered`): its intent's commit then waits for no flush of its own.
   */
  orderedLog?: (instance: Instance) => Promise<boolean>;
}

export function appCodeOf(store: AppCodeStore, opts: CodeOptions): AppCode {
  const fetch = (instance: Instance, kind: AppKind, slug: string, source: string, resolveRegistry = opts.resolveRegistry) => fetchPackage(store, source, kind, {
    instanceId: instance.id, expectedSlug: slug, dev: opts.dev, limits: opts.limits,
    ...(resolveRegistry ? { resolveRegistry } : {}),
    ...(opts.openRegistryTarball ? { openRegistryTarball: opts.openRegistryTarball } : {}),
  });
  const ordered = async (instance: Instance) => (await opts.orderedLog?.(instance)) ?? false;
  return {
    fetch: (instance, kind, slug, source) => fetch(instance, kind, slug, source),
    ordered,
    async prepare(instance, kind, slug, source) {
      // one source names one registry version: its first good answer serves both the check and the fetch
      let answer: ReturnType<ResolveRegistry> | null = null;
      const resolve = opts.resolveRegistry;
      const once: ResolveRegistry | undefined = resolve && ((s, v) => {
        const asked = (answer ??= resolve(s, v));
        asked.catch(() => (answer = null));
        return asked;
      });
      const sha256 = await expectedSha256(source, { expectedSlug: slug, ...(once ? { resolveRegistry: once } : {}) });
      return { stored: sha256 !== null && (await store.has(sha256)), sha256, fetch: () => fetch(instance, kind, slug, source, once) };
    },
    async begin(instance, kind, slug, sha256, op = 'install', undo = null) {
      const id = randomUUID();
      await store.begin({ id, domain: instance.domain, instanceId: instance.id, kind, slug, sha256, op, undo }, { ordered: await ordered(instance) });
      return id;
    },
    async held(instance, kind, slug) {
      return [...new Set((await store.refs({ instanceId: instance.id })).filter((r) => r.kind === kind && r.slug === slug).map((r) => r.sha256))];
    },
    end: (ids) => store.end(ids),
    inFlight: () => store.inFlight(),
    claim: () => store.claimIntents(),
    letGo: (ids) => store.releaseIntents(ids),
    sweepMs: store.intentSweepMs,
    async release(instance, kind, slug, sha256) {
      await store.release({ instanceId: instance.id, kind, slug, sha256 });
      await store.gc();
    },
    materialize: (sha256) => store.materialize(sha256),
  };
}

/** The prefix of the references a run holds on the code it runs (so that an uninstall during the run does not remove it). */
const RUN = 'run:';

/**
 * For the sandbox workers: the stored manifest and the folder of an installed konnector's or web app's code, or
 * null. The code is held by a reference of the run until `done()`, so that an uninstall or an update meanwhile
 * does not remove the files the run is reading (the next gc does, once the run ends).
 */
export function installedCodeOf(storeOf: (instance: Instance) => DocStore, store: AppCodeStore) {
  return async (instance: Instance, kind: 'konnector' | 'webapp', slug: string): Promise<{ dir: string; manifest: Record<string, unknown>; done(): Promise<void> } | null> => {
    const doc = await findApp(storeOf(instance), kind, slug);
    if (!doc?.checksum || (doc.state !== 'ready' && doc.state !== 'installed' && doc.state !== 'upgrading')) return null;
    const ref = { instanceId: `${RUN}${randomUUID()}`, kind, slug, sha256: doc.checksum };
    try {
      await store.acquire(ref, async () => {
        throw new Error('removed meanwhile');
      });
    } catch {
      return null; // uninstalled (or updated) between the read and the reference: as if not installed
    }
    const done = async () => {
      await store.release(ref);
      await store.gc();
    };
    try {
      return { dir: await store.materialize(doc.checksum), manifest: doc, done };
    } catch (e) {
      await done();
      throw e;
    }
  };
}

/** At start: drops the references of runs a stop cut short (then gc removes code nothing else uses). */
export async function dropRunRefs(store: AppCodeStore): Promise<void> {
  for (const ref of await store.refs({})) if (ref.instanceId.startsWith(RUN)) await store.release(ref);
  await store.gc();
}

/**
 * After a crash of a version that wrote references without their fsync, or a machine crash under one that commits an
 * install's reference without it (the store's `refsStale`, once): gives back the references that the app docs of every
 * instance name (the code of each installed version, `checksum`), then lets gc run again. Returns how many were missing.
 */
export async function restoreCodeRefs(store: AppCodeStore, instances: () => Promise<Instance[]>, storeOf: (instance: Instance) => DocStore): Promise<number> {
  if (!store.refsStale || !store.restoreRefs) return 0;
  async function* refsOfApps(): AsyncGenerator<CodeRef[]> {
    for (const instance of await instances()) {
      for (const kind of ['webapp', 'konnector'] as const) {
        for await (const docs of appPages(storeOf(instance), kind)) {
          yield docs.flatMap((d) => (d.checksum ? [{ instanceId: instance.id, kind, slug: d.slug, sha256: d.checksum }] : []));
        }
      }
    }
  }
  const added = await store.restoreRefs(refsOfApps());
  await store.gc();
  return added;
}
