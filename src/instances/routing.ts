/**
 * Which engine serves each instance (issue 16): `storeOf(instance)` and the blob stores of the file system pick the
 * document factory and the blob stores of the instance's engines (./engines.ts), so that one server holds instances
 * on different engines, which an online migration (./migrate.ts) needs. The engines of an instance are cached once
 * read (the hot path stays a Map lookup); a migration's switch drops the entry in every process (Invalidation).
 * An instance being moved is `blocked`: its document store refuses every call with 503 and Retry-After (the public
 * app's instance lookup does the same, compose.ts), as cozy-stack blocks an instance during a move.
 */
import type { EventBus } from '../common/bus.js';
import { ServiceUnavailable } from '../common/errors.js';
import type { Invalidation } from '../common/invalidation.js';
import type { DocStore, DocStoreFactory } from '../data/store.js';
import type { BlobStore } from '../files/blobs/store.js';
import { EMBEDDED_ENGINES, type EngineChoice, type InstanceEngines } from './engines.js';

export interface BlobEngine {
  files: BlobStore;
  thumbs: BlobStore;
}

/** The engines this server can use, by name (`sqlite`, `postgres`; `local`, `swift`, `s3`; tests add others). */
export interface EngineCatalog {
  docs: ReadonlyMap<string, DocStoreFactory>;
  blobs: ReadonlyMap<string, BlobEngine>;
}

const TOPIC = 'instance-engines';
export const BLOCKED_RETRY_AFTER_S = 10;

export function blockedError(): ServiceUnavailable {
  return Object.assign(new ServiceUnavailable('this instance is being moved to another storage engine and is blocked for a moment: retry in a few seconds'), {
    headers: { 'Retry-After': String(BLOCKED_RETRY_AFTER_S) },
  });
}

type Target = { domain: string; id: string };
const METHODS = [
  'listDoctypes', 'info', 'createDoctype', 'dropDoctype', 'get', 'openRevs', 'put', 'bulkDocs', 'putAll', 'putInOrder', 'bulkGet', 'revsDiff', 'allDocs', 'changes',
  'currentSeq', 'find', 'count', 'explain', 'createIndex', 'listIndexes', 'deleteIndex', 'getLocal', 'localDocs', 'putLocal', 'deleteLocal',
  'getAttachment', 'ping',
] as const;

export class EngineRouter {
  private readonly cache = new Map<string, EngineChoice>();
  private readonly blocked = new Set<string>();
  /** Domain → the docs engine a migration is copying it into: that engine's events for it are not published. */
  private readonly incoming = new Map<string, string>();
  private readonly unlisten: () => void;

  constructor(
    readonly engines: InstanceEngines,
    readonly catalog: EngineCatalog,
    private readonly invalidation: Invalidation,
  ) {
    this.unlisten = invalidation.listen(TOPIC, (id) => this.cache.delete(id));
  }

  /** The instance's engines (EMBEDDED_ENGINES without a record). */
  async choiceOf(instanceId: string): Promise<EngineChoice> {
    const cached = this.cache.get(instanceId);
    if (cached) return cached;
    const choice = (await this.engines.get(instanceId)) ?? EMBEDDED_ENGINES;
    this.cache.set(instanceId, choice);
    return choice;
  }

  /** After a write of the instance's engines (a new instance, a switch): every process reads them again. */
  changed(instanceId: string): void {
    this.cache.delete(instanceId);
    this.invalidation.invalidate(TOPIC, instanceId);
  }

  docsFactory(name: string): DocStoreFactory {
    const factory = this.catalog.docs.get(name);
    if (!factory) throw new ServiceUnavailable(`the document engine ${name} of this instance is not configured on this server`);
    return factory;
  }

  blobEngine(name: string): BlobEngine {
    const engine = this.catalog.blobs.get(name);
    if (!engine) throw new ServiceUnavailable(`the blob engine ${name} of this instance is not configured on this server`);
    return engine;
  }

  /** The instance's document store: its engine's, directly once its engines are known; a refusing one while it is blocked. */
  storeOf(instance: Target): DocStore {
    if (this.blocked.has(instance.id)) return refusingStore(instance.domain);
    const cached = this.cache.get(instance.id);
    if (cached) return this.docsFactory(cached.docs).open(instance.domain, instance.id);
    return lazyStore(instance.domain, async () => {
      if (this.blocked.has(instance.id)) throw blockedError();
      return this.docsFactory((await this.choiceOf(instance.id)).docs).open(instance.domain, instance.id);
    });
  }

  /**
   * The stamps of the asked instances' writes (DocStoreFactory.writeStamps), by instance id, each engine asked once for
   * its instances; each stamp names its engine (a migration changes it). Left out: the instances whose engine has no
   * such index and the blocked ones (the @event sweep visits them).
   */
  async writeStamps(asked: ReadonlyMap<string, readonly string[]>): Promise<Map<string, string>> {
    const byEngine = new Map<string, Map<string, readonly string[]>>();
    for (const [id, doctypes] of asked) {
      if (this.blocked.has(id)) continue;
      const name = (await this.choiceOf(id)).docs;
      let some = byEngine.get(name);
      if (!some) byEngine.set(name, (some = new Map()));
      some.set(id, doctypes);
    }
    const out = new Map<string, string>();
    for (const [name, some] of byEngine) {
      const stamps = await this.catalog.docs.get(name)?.writeStamps?.(some);
      for (const [id, stamp] of stamps ?? []) out.set(id, `${name}:${stamp}`);
    }
    return out;
  }

  /** The blob store of one area (file contents or thumbnails) that routes each namespace (an instance id) to its engine. */
  blobStore(area: keyof BlobEngine): BlobStore {
    const pick = async (ns: string) => this.blobEngine((await this.choiceOf(ns)).blobs)[area];
    return {
      write: async (ns, body, opts) => (await pick(ns)).write(ns, body, opts),
      read: async (ns, key, range) => (await pick(ns)).read(ns, key, range),
      size: async (ns, key) => (await pick(ns)).size(ns, key),
      remove: async (ns, key) => (await pick(ns)).remove(ns, key),
      keys: (ns) => ({ [Symbol.asyncIterator]: async function* () { yield* (await pick(ns)).keys(ns); } }),
      cleanTemporary: async (ns) => (await pick(ns)).cleanTemporary(ns),
      sync: async (ns) => (await pick(ns)).sync(ns),
      drop: async (ns) => (await pick(ns)).drop(ns),
      close: async () => undefined,
    };
  }

  isBlocked(instanceId: string): boolean {
    return this.blocked.has(instanceId);
  }

  block(instanceId: string): void {
    this.blocked.add(instanceId);
  }

  unblock(instanceId: string): void {
    this.blocked.delete(instanceId);
  }

  /** While a migration copies `domain` into the docs engine `name`, that engine's events for it stay silent. */
  setIncoming(domain: string, name: string | null): void {
    if (name === null) this.incoming.delete(domain);
    else this.incoming.set(domain, name);
  }

  /** The bus a docs engine publishes on: the events of the documents a migration copies into it are not news. */
  busFor(name: string, bus: EventBus): EventBus {
    return {
      publish: (event) => {
        if (this.incoming.get(event.domain) !== name) bus.publish(event);
      },
      subscribe: (domain, doctype, listener) => bus.subscribe(domain, doctype, listener),
    };
  }

  close(): void {
    this.unlisten();
  }
}

/** A DocStore whose every call first resolves the real one. */
function lazyStore(domain: string, resolve: () => Promise<DocStore>): DocStore {
  const store = { domain, close: async () => undefined } as Record<string, unknown>;
  for (const m of METHODS) {
    store[m] = async (...args: unknown[]) => {
      const real = (await resolve()) as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
      const fn = real[m];
      if (!fn) throw new Error(`the document engine of ${domain} has no ${m}`);
      return fn.apply(real, args);
    };
  }
  return store as unknown as DocStore;
}

/** The store of a blocked instance: every call is a 503. */
function refusingStore(domain: string): DocStore {
  return lazyStore(domain, () => Promise.reject(blockedError()));
}
