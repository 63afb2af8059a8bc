/**
 * Moving an instance between engines (issue 16): `hearth instances migrate <domain> --to … --blobs-to …`.
 *
 * 1. The migration is recorded, durably (InstanceEngines.beginMigration: one at a time per instance, across processes),
 *    and what a previous run left on the target is dropped.
 * 2. Online pass: every doctype and every blob is copied while the instance keeps serving (./migrate-copy.ts).
 * 3. The instance is blocked (every request and every use of its store is a 503 with Retry-After: ./routing.ts), a
 *    catch-up pass copies what changed since each doctype's last sequence, the `_local` documents and the new blobs,
 *    and both sides are compared: per doctype the counts, a checksum of every document's winning revision and leaves,
 *    the `_local` documents and the indexes; per blob namespace the keys and sizes (each blob's MD5 was checked as
 *    it was copied). A difference (a write that was already under way when the block began) gets another catch-up,
 *    up to three times, then the migration fails.
 * 4. The switch: the instance's engines become the target's and the record's phase `switched`, in one transaction;
 *    then it is unblocked. The source's copy is removed only after that, by `dropSource` or a later `cleanup`.
 *
 * A failure at any step before the switch leaves the instance on its source engines, unblocked; a process killed in
 * the middle leaves a `running` record that `recover()` (at the next start) removes: the instance was never switched,
 * and the block lived in the dead process only. A new run drops the target's partial copy first.
 */
import type { Logger } from 'pino';
import { BadRequest, Conflict, NotFound, UnprocessableEntity } from '../common/errors.js';
import type { DocStore } from '../data/store.js';
import type { EngineChoice, MigrationRecord } from './engines.js';
import {
  copyDoctype, copyLocalDocs, digestBlobs, digestDoctype, dropAllDocs, MigrationFailed, syncBlobs, type CopyCounters,
} from './migrate-copy.js';
import type { BlobEngine, EngineRouter } from './routing.js';
import type { Instance } from './types.js';

export type MigrationStep = 'prepare' | 'copy' | 'blocked' | 'catch-up' | 'verify' | 'switched' | 'source-dropped';

export interface MigrationProgress extends CopyCounters {
  step: MigrationStep;
  doctype?: string;
  elapsed_ms: number;
}

export interface MigrationSummary extends CopyCounters {
  domain: string;
  from: EngineChoice;
  to: EngineChoice;
  doctypes: number;
  /** The whole run, and the part of it the instance was blocked. */
  elapsed_ms: number;
  blocked_ms: number;
  /** Time spent copying documents, and blobs (all passes); the speeds are over these times. */
  docs_ms: number;
  blobs_ms: number;
  docs_per_s: number;
  mb_per_s: number;
  catch_up_passes: number;
  source_dropped: boolean;
}

export interface MigrationRequest {
  docs?: string;
  blobs?: string;
  dropSource?: boolean;
}

type Pick2 = { docs: DocStore | null; blobs: BlobEngine | null };
const MAX_CATCH_UPS = 3;

export class Migrations {
  /** Instances whose migration runs in this process. */
  private readonly running = new Set<string>();

  constructor(private readonly router: EngineRouter, private readonly logger?: Pick<Logger, 'info' | 'warn'>) {}

  isRunning(instanceId: string): boolean {
    return this.running.has(instanceId);
  }

  /** Checks the request; throws the refusals (before anything is written). Returns the engines from and to. */
  async plan(instance: Instance, request: MigrationRequest): Promise<{ from: EngineChoice; to: EngineChoice }> {
    if (request.docs === undefined && request.blobs === undefined) throw new BadRequest('say where to move the instance: a documents engine (to), a blobs engine (blobs_to), or both');
    const { catalog } = this.router;
    for (const [kind, name, known] of [['documents', request.docs, catalog.docs], ['blobs', request.blobs, catalog.blobs]] as const) {
      if (name !== undefined && !known.has(name)) {
        throw new UnprocessableEntity(`the ${kind} engine "${String(name).slice(0, 40)}" is not configured on this server (configured: ${[...known.keys()].join(', ')})`);
      }
    }
    const from = { ...(await this.router.choiceOf(instance.id)) };
    const to = { docs: request.docs ?? from.docs, blobs: request.blobs ?? from.blobs };
    if (to.docs === from.docs && to.blobs === from.blobs) {
      throw new UnprocessableEntity(`${instance.domain} is already on these engines (documents ${from.docs}, blobs ${from.blobs})`);
    }
    if (this.running.has(instance.id)) throw new Conflict(`a migration of ${instance.domain} is already running`);
    const previous = await this.router.engines.migration(instance.id);
    if (previous?.phase === 'running') throw new Conflict(`a migration of ${instance.domain} is already running`);
    if (previous) {
      const leftover = (kind: keyof EngineChoice) => previous.from[kind] !== previous.to[kind] && previous.from[kind] !== to[kind];
      if (leftover('docs') || leftover('blobs')) {
        throw new Conflict(`the previous migration of ${instance.domain} left its old copy on ${previous.from.docs}/${previous.from.blobs}: remove it first (hearth instances migrate --cleanup)`);
      }
    }
    return { from, to };
  }

  async migrate(instance: Instance, request: MigrationRequest, onProgress: (p: MigrationProgress) => void | Promise<void> = () => undefined): Promise<MigrationSummary> {
    const { from, to } = await this.plan(instance, request);
    const record: MigrationRecord = { instanceId: instance.id, domain: instance.domain, from, to, phase: 'running', startedAt: new Date().toISOString() };
    const previous = await this.router.engines.migration(instance.id);
    if (!(await this.router.engines.beginMigration(record, previous ? 'switched' : null))) throw new Conflict(`a migration of ${instance.domain} is already running`);
    this.running.add(instance.id);
    const started = performance.now();
    let blockedAt: number | null = null;
    let switched = false;
    const counters: CopyCounters = { docs: 0, blobs: 0, bytes: 0 };
    const report = async (step: MigrationStep, doctype?: string) => onProgress({ step, ...(doctype ? { doctype } : {}), ...counters, elapsed_ms: Math.round(performance.now() - started) });
    const src = this.sides(instance, from, to);
    const dst = this.sides(instance, to, from);
    try {
      this.logger?.info({ domain: instance.domain, from, to }, 'migration started');
      await report('prepare');
      if (dst.docs) await dropAllDocs(dst.docs);
      if (dst.blobs) await Promise.all([dst.blobs.files.drop(instance.id), dst.blobs.thumbs.drop(instance.id)]);
      if (dst.docs) this.router.setIncoming(instance.domain, to.docs);
      // the online pass
      const seqs = new Map<string, string>();
      const md5s = new Map<string, string>();
      const spent = { docs: 0, blobs: 0 };
      const copyPass = async (step: MigrationStep) => {
        const t0 = performance.now();
        if (src.docs && dst.docs) {
          for (const doctype of await src.docs.listDoctypes()) {
            seqs.set(doctype, await copyDoctype(src.docs, dst.docs, doctype, seqs.get(doctype) ?? '0', counters, () => report(step, doctype)));
          }
        }
        const t1 = performance.now();
        if (src.blobs && dst.blobs) {
          for (const area of ['files', 'thumbs'] as const) await syncBlobs(src.blobs[area], dst.blobs[area], instance.id, counters, md5s, () => report(step));
        }
        spent.docs += t1 - t0;
        spent.blobs += performance.now() - t1;
      };
      await report('copy');
      await copyPass('copy');
      // blocked: the catch-up, then the comparison, again if a write that was under way still landed on the source
      this.router.block(instance.id);
      blockedAt = performance.now();
      await report('blocked');
      let passes = 0;
      for (;;) {
        passes++;
        await report('catch-up');
        await copyPass('catch-up');
        if (src.docs && dst.docs) for (const doctype of await src.docs.listDoctypes()) await copyLocalDocs(src.docs, dst.docs, doctype);
        await report('verify');
        const difference = await this.compare(src, dst, instance.id);
        if (difference === null) break;
        if (passes >= MAX_CATCH_UPS) throw new MigrationFailed(`the copy differs from the source after ${passes} catch-up passes: ${difference}`);
        this.logger?.warn({ domain: instance.domain, difference }, 'migration: the source changed during the catch-up, one more pass');
      }
      await this.router.engines.switchMigration(instance.id);
      switched = true;
      this.router.setIncoming(instance.domain, null);
      this.router.changed(instance.id);
      const blockedMs = performance.now() - blockedAt;
      this.router.unblock(instance.id);
      blockedAt = null;
      await report('switched');
      this.logger?.info({ domain: instance.domain, to, blocked_ms: Math.round(blockedMs) }, 'migration switched');
      if (request.dropSource) {
        await this.dropSource(instance, src);
        await report('source-dropped');
      }
      const elapsed = performance.now() - started;
      return {
        domain: instance.domain, from, to, ...counters, doctypes: seqs.size, elapsed_ms: Math.round(elapsed), blocked_ms: Math.round(blockedMs),
        docs_ms: Math.round(spent.docs), blobs_ms: Math.round(spent.blobs),
        docs_per_s: Math.round(counters.docs / (spent.docs / 1000 || 1)), mb_per_s: Math.round((counters.bytes / 1e6 / (spent.blobs / 1000 || 1)) * 10) / 10,
        catch_up_passes: passes, source_dropped: request.dropSource === true,
      };
    } catch (e) {
      this.logger?.warn({ domain: instance.domain, err: e instanceof Error ? e.message : String(e), switched }, 'migration failed');
      if (!switched) await this.router.engines.endMigration(instance.id).catch(() => undefined);
      throw e;
    } finally {
      this.router.setIncoming(instance.domain, null);
      this.router.unblock(instance.id);
      this.running.delete(instance.id);
    }
  }

  /** Removes the source's copy left by a switched migration (`hearth instances migrate --cleanup`). */
  async cleanup(instance: Instance): Promise<EngineChoice> {
    const record = await this.router.engines.migration(instance.id);
    if (!record || record.phase !== 'switched') throw new NotFound(`${instance.domain} has no old copy to remove (no finished migration left one)`);
    if (this.running.has(instance.id)) throw new Conflict(`a migration of ${instance.domain} is already running`);
    await this.dropSource(instance, this.sides(instance, record.from, record.to));
    return record.from;
  }

  /** At start: a migration that a stop cut short is forgotten (the instance was not switched: it is on its source). */
  async recover(): Promise<MigrationRecord[]> {
    const undone: MigrationRecord[] = [];
    for (const record of await this.router.engines.migrations()) {
      if (record.phase !== 'running' || this.running.has(record.instanceId)) continue;
      this.logger?.warn({ domain: record.domain, from: record.from, to: record.to }, 'a migration was cut short by a stop: the instance stays on its engines, a new run starts over');
      await this.router.engines.endMigration(record.instanceId);
      undone.push(record);
    }
    return undone;
  }

  private async dropSource(instance: Instance, src: Pick2): Promise<void> {
    if (src.docs) await dropAllDocs(src.docs);
    if (src.blobs) await Promise.all([src.blobs.files.drop(instance.id), src.blobs.thumbs.drop(instance.id)]);
    await this.router.engines.endMigration(instance.id);
  }

  /** The stores of `side` for the kinds that differ from `other` (null for a kind that does not move). */
  private sides(instance: Instance, side: EngineChoice, other: EngineChoice): Pick2 {
    return {
      docs: side.docs !== other.docs ? this.router.docsFactory(side.docs).open(instance.domain, instance.id) : null,
      blobs: side.blobs !== other.blobs ? this.router.blobEngine(side.blobs) : null,
    };
  }

  /** Null when both sides agree; otherwise what differs first. */
  private async compare(src: Pick2, dst: Pick2, ns: string): Promise<string | null> {
    if (src.docs && dst.docs) {
      const doctypes = [...new Set([...(await src.docs.listDoctypes()), ...(await dst.docs.listDoctypes())])].sort();
      for (const doctype of doctypes) {
        const [a, b] = await Promise.all([digestDoctype(src.docs, doctype), digestDoctype(dst.docs, doctype)]);
        const key = (Object.keys(a) as Array<keyof typeof a>).find((k) => a[k] !== b[k]);
        if (key) return `${doctype}: ${key} ${String(a[key])} on the source, ${String(b[key])} on the target`;
      }
    }
    if (src.blobs && dst.blobs) {
      for (const area of ['files', 'thumbs'] as const) {
        const [a, b] = await Promise.all([digestBlobs(src.blobs[area], ns), digestBlobs(dst.blobs[area], ns)]);
        if (a.checksum !== b.checksum) return `blobs (${area}): ${a.count} blobs of ${a.bytes} bytes on the source, ${b.count} of ${b.bytes} on the target`;
      }
    }
    return null;
  }
}
