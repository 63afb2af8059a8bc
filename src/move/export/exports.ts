/**
 * Exports of an instance (cozy-stack model/move/export.go, worker/moves): the `export` job records the `io.cozy.exports`
 * document (one at a time per instance), takes its snapshot (snapshot.ts: a copy of the documents at one moment, the
 * blobs they name kept until the export ends) while it measures the files and versions to cut the archive in parts, and ends it done
 * or in error, with realtime `CREATED`/`UPDATED` events, then mails the owner the link to the settings app's page of the
 * export (or, during a move, tells the move: MoveHooks). The archive itself is streamed at download time (archive.ts).
 * `sweep` (every `sweepMs`, and at start) marks failed the exports whose job is gone (a process killed in the middle)
 * and removes the expired ones, then the blobs kept for exports that ended.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { EventBus } from '../../common/bus.js';
import { Conflict, NotFound } from '../../common/errors.js';
import type { DocStore } from '../../data/store.js';
import { appOrigin, type SubdomainMode } from '../../apps/hosts.js';
import type { BlobStore } from '../../files/blobs/store.js';
import type { FileSystem } from '../../files/fs.js';
import type { Instance } from '../../instances/types.js';
import type { PushSpec } from '../../jobs/engine.js';
import type { JobDoc, WorkerDef } from '../../jobs/types.js';
import { PermanentJobError } from '../../jobs/types.js';
import type { ExportDoc, ExportMessage, MoveHooks, MoveTo } from '../types.js';
import { AVATAR_ENTRY, WALLPAPER_ENTRY } from '../layout.js';
import { decodeExportMac, encodeExportMac } from './mac.js';
import { exportFailedMail, exportReadyMail } from './mail.js';
import { GIB, PartSplitter, partSize } from './parts.js';
import { takeSnapshot, type SnapshotImage } from './snapshot.js';
import { EXPORT_RUN_MAX_MS, type ExportStore } from './store.js';

export const EXPORTS_DOCTYPE = 'io.cozy.exports';
export const EXPORT_WORKER = 'export';
const DAY_MS = 24 * 3_600_000;
/** cozy-stack's archiveMaxAge: an export lives at most (and by default) 7 days. */
export const EXPORT_MAX_AGE_MS = 7 * DAY_MS;

export interface ExportsDeps {
  store: ExportStore;
  bus: EventBus;
  fs: FileSystem;
  /** The instances' file blobs as they are, for the removal of the blobs no export holds any more (not files/blobs/held.ts's). */
  blobs: BlobStore;
  /**
   * Resolves once the jobs and triggers written so far are in the instances' DocStores (jobs/mirror.ts copies them
   * there a moment after each write): the snapshot waits for it, so that a trigger made just before the export is in it.
   */
  mirrored?(): Promise<void>;
  storeOf(instance: Instance): DocStore;
  /** The owner's avatar as stored, or null (settings/avatar.ts): copied into the snapshot. */
  avatar?(instance: Instance): Promise<Buffer | null>;
  /** Home's wallpaper as stored, or null (settings/wallpaper-routes.ts): copied into the snapshot. */
  wallpaper?(instance: Instance): Promise<Buffer | null>;
  /** The job engine, read when needed (it is built with this module's worker). */
  jobs(): { push(domain: string, spec: PushSpec): Promise<JobDoc>; get(domain: string, id: string): Promise<JobDoc | null> };
  /** The instance's session secret, the key of the MACs. */
  secret(instance: Instance): Promise<Uint8Array>;
  /** The instance's address (`https://alice.example.org`). */
  publicUrl(instance: Instance): string;
  subdomains: SubdomainMode;
  /** The instance that has this domain now. */
  instanceOf(domain: string): Promise<Instance | null>;
  logger: Logger;
  /** A move between servers (transfer/): told instead of mailing when the job's message has `move_to`. */
  hooks?: MoveHooks;
  /** The smallest part (cozy-stack: 1 GiB); tests make it small to cut small instances in several parts. */
  minPartSize?: number;
  /** Called when the job has recorded the export, before it takes the snapshot: crash tests hold the job there. */
  beforeMeasure?: (instance: Instance, doc: ExportDoc) => Promise<void>;
  /** How often `sweep` runs (default 60 s; 0: never by itself). */
  sweepMs?: number;
  now?: () => number;
}

/** The export's options from a job message or a request body, bounded: max_age (ns) capped at and defaulting to 7 days. */
export function exportOptions(raw: Record<string, unknown>): ExportMessage {
  const msg: ExportMessage = {};
  if (typeof raw.parts_size === 'number' && Number.isSafeInteger(raw.parts_size) && raw.parts_size > 0) msg.parts_size = raw.parts_size;
  if (typeof raw.max_age === 'number' && Number.isFinite(raw.max_age) && raw.max_age > 0) msg.max_age = raw.max_age;
  if (Array.isArray(raw.with_doctypes)) msg.with_doctypes = raw.with_doctypes.filter((d): d is string => typeof d === 'string').slice(0, 1000);
  return msg;
}

const maxAgeMs = (ns: number | undefined) => (ns === undefined ? EXPORT_MAX_AGE_MS : Math.min(EXPORT_MAX_AGE_MS, ns / 1e6));

export class Exports {
  private readonly now: () => number;
  private timer: NodeJS.Timeout | null = null;
  private sweeping: Promise<void> | null = null;

  constructor(private readonly deps: ExportsDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** The exports' store (their documents, their snapshots and pins). */
  get store(): ExportStore {
    return this.deps.store;
  }

  /** Queues an export (POST /move/exports, the admin API): a Conflict while another runs (the job checks again, atomically). */
  async request(instance: Instance, msg: ExportMessage): Promise<JobDoc> {
    const now = this.now();
    if ((await this.deps.store.list(instance.id)).some((d) => d.state === 'exporting' && now - Date.parse(d.created_at) < EXPORT_RUN_MAX_MS)) {
      throw new Conflict('export: an archive is already being created');
    }
    return this.deps.jobs().push(instance.domain, { worker: EXPORT_WORKER, message: msg });
  }

  async macOf(instance: Instance, exportId: string): Promise<string> {
    return encodeExportMac(await this.deps.secret(instance), exportId, this.now());
  }

  /** The origin of the instance's settings app (where the export's page is, and what may frame its download). */
  settingsOrigin(instance: Instance): string {
    const url = new URL(this.deps.publicUrl(instance));
    return appOrigin(url.host, 'settings', this.deps.subdomains, url.protocol.slice(0, -1));
  }

  /** The page of the export in the settings app: what the mail links to. */
  async linkOf(instance: Instance, exportId: string): Promise<string> {
    return `${this.settingsOrigin(instance)}/#/exports/${await this.macOf(instance, exportId)}`;
  }

  /** The export a MAC names: 401 for a forged or expired MAC (or another instance's), 404 when gone or expired. */
  async byMac(instance: Instance, mac: string): Promise<ExportDoc> {
    const id = decodeExportMac(await this.deps.secret(instance), mac, this.now());
    return this.byId(instance, id);
  }

  async byId(instance: Instance, id: string): Promise<ExportDoc> {
    const found = await this.deps.store.get(id);
    if (!found || found.instanceId !== instance.id) throw new NotFound('exports: not found');
    if (Date.parse(found.doc.expires_at) <= this.now()) throw new NotFound('exports: has expired');
    return found.doc;
  }

  list(instance: Instance): Promise<ExportDoc[]> {
    return this.deps.store.list(instance.id);
  }

  private publish(instance: Instance, verb: 'CREATED' | 'UPDATED', doc: ExportDoc): void {
    this.deps.bus.publish({ domain: instance.domain, doctype: EXPORTS_DOCTYPE, id: doc._id, verb, doc: { ...doc } });
  }

  worker(): WorkerDef {
    return {
      name: EXPORT_WORKER,
      concurrency: 2,
      maxExecCount: 1,
      timeoutSeconds: 3600,
      internal: true,
      run: async (ctx) => {
        const raw = (typeof ctx.job.message === 'object' && ctx.job.message !== null ? ctx.job.message : {}) as Record<string, unknown>;
        const msg: ExportMessage = { ...exportOptions(raw), ...(raw.admin === true ? { admin: true } : {}) };
        const moveTo = raw.move_to as MoveTo | undefined;
        await this.run(ctx.instance, ctx.job._id, moveTo ? { ...msg, move_to: moveTo, ...(typeof raw.token === 'string' ? { token: raw.token } : {}) } : msg, ctx.signal);
      },
    };
  }

  private async run(instance: Instance, jobId: string, msg: ExportMessage, signal: AbortSignal): Promise<void> {
    const started = this.now();
    const doc: ExportDoc = {
      _id: randomBytes(16).toString('hex'), _rev: '1-export', domain: instance.domain, parts_cursors: [], state: 'exporting',
      created_at: new Date(started).toISOString(), expires_at: new Date(started + maxAgeMs(msg.max_age)).toISOString(), total_size: -1,
      ...(msg.parts_size ? { parts_size: msg.parts_size } : {}), ...(msg.with_doctypes?.length ? { with_doctypes: msg.with_doctypes } : {}),
    };
    const begun = await this.deps.store.begin(instance.id, doc, jobId, started);
    if (!begun) throw new PermanentJobError('export: an archive is already being created');
    this.publish(instance, 'CREATED', doc);
    // the exports this one replaced (store.begin removed them) hold nothing any more
    if (begun.removed.length) await this.release().catch((err: unknown) => this.deps.logger.error({ err }, 'export: releasing the blobs kept for older exports failed'));
    let ended: ExportDoc | null;
    try {
      await this.deps.beforeMeasure?.(instance, doc);
      const measured = await this.snapshot(instance, doc, msg.parts_size, signal);
      ended = await this.deps.store.finish(doc._id, { state: 'done', ...measured, creation_duration: (this.now() - started) * 1e6 });
    } catch (err) {
      const error = (err as Error).message;
      ended = await this.deps.store.finish(doc._id, { state: 'error', error });
      if (ended) this.publish(instance, 'UPDATED', ended);
      await this.tell(instance, msg, ended, error);
      throw new PermanentJobError(`export: ${error}`);
    }
    if (!ended) throw new PermanentJobError('export: the export was ended by another process (its job was thought gone)');
    this.publish(instance, 'UPDATED', ended);
    await this.tell(instance, msg, ended, null);
  }

  /** The snapshot (snapshot.ts), and the parts of the archive: the files then the versions, in id order. */
  private async snapshot(instance: Instance, doc: ExportDoc, requested: number | undefined, signal: AbortSignal): Promise<Pick<ExportDoc, 'parts_cursors' | 'parts_size' | 'total_size'>> {
    const size = partSize(requested, await this.deps.fs.diskUsage(instance), this.deps.minPartSize ?? GIB);
    const parts = new PartSplitter(size);
    await this.deps.mirrored?.();
    const { avatar, wallpaper } = this.deps;
    const images: SnapshotImage[] = [
      ...(avatar ? [{ entry: AVATAR_ENTRY, read: () => avatar(instance) }] : []),
      ...(wallpaper ? [{ entry: WALLPAPER_ENTRY, read: () => wallpaper(instance) }] : []),
    ];
    const total = await takeSnapshot(this.deps.store, this.deps.storeOf(instance), doc, parts, signal, images);
    return { parts_cursors: parts.cursors, parts_size: size, total_size: total };
  }

  /** Removes the blobs kept for exports that hold them no more (ended in error, expired, replaced, or their instance gone). */
  async release(): Promise<number> {
    let n = 0;
    for (let pins = await this.deps.store.releasable(this.now(), 100); pins.length; pins = await this.deps.store.releasable(this.now(), 100)) {
      for (const pin of pins) await this.deps.blobs.remove(pin.instanceId, pin.key);
      await this.deps.store.unpin(pins);
      n += pins.length;
    }
    return n;
  }

  /** What follows the end: the move is told (move_to), an admin export says nothing more, the owner gets a mail. */
  private async tell(instance: Instance, msg: ExportMessage, doc: ExportDoc | null, error: string | null): Promise<void> {
    try {
      if (msg.move_to) {
        if (!this.deps.hooks) throw new Error('this server cannot move instances');
        const m = { ...msg, move_to: msg.move_to };
        if (error !== null || !doc) return await this.deps.hooks.exportFailed(instance, m, error ?? 'the export was interrupted');
        // the target could not be told (unreachable, or it refused): the move failed, both sides are unblocked
        return await this.deps.hooks.exportDone(instance, doc, m).catch((err: unknown) => this.deps.hooks!.exportFailed(instance, m, (err as Error).message));
      }
      if (msg.admin) return;
      if (!instance.email) {
        this.deps.logger.warn({ domain: instance.domain }, 'export: no mail sent, the instance has no owner email address');
        return;
      }
      const message = error === null && doc ? exportReadyMail(instance, await this.linkOf(instance, doc._id), doc.expires_at) : exportFailedMail(instance, error ?? 'interrupted');
      await this.deps.jobs().push(instance.domain, { worker: 'sendmail', message });
    } catch (err) {
      this.deps.logger.error({ err, domain: instance.domain }, 'export: telling the end of the export failed');
    }
  }

  /** Exports whose job is gone (its process was killed) are marked failed; expired exports are removed. */
  sweep(): Promise<void> {
    this.sweeping ??= (async () => {
      try {
        for (const { instanceId, jobId, doc } of await this.deps.store.running()) {
          const job = jobId ? await this.deps.jobs().get(doc.domain, jobId) : null;
          if (job && (job.state === 'queued' || job.state === 'running')) continue;
          const ended = await this.deps.store.finish(doc._id, { state: 'error', error: 'the export was interrupted (the server stopped while it ran): ask for a new one' });
          const instance = ended ? await this.deps.instanceOf(doc.domain) : null;
          if (ended && instance?.id === instanceId) {
            this.publish(instance, 'UPDATED', ended);
            // an export for a move: the move failed (both sides are unblocked, the owner is told)
            const raw = job?.message as Record<string, unknown> | undefined;
            if (raw?.move_to) await this.tell(instance, { move_to: raw.move_to as MoveTo }, null, 'the export was interrupted (the server stopped while it ran)');
          }
          if (ended) this.deps.logger.warn({ domain: doc.domain, export_id: doc._id }, 'export: marked failed, its job is gone');
        }
        for (let removed = await this.deps.store.removeExpired(this.now(), 100); removed.length; removed = await this.deps.store.removeExpired(this.now(), 100)) {
          this.deps.logger.info({ count: removed.length }, 'export: expired exports removed');
        }
        const released = await this.release();
        if (released) this.deps.logger.info({ count: released }, 'export: blobs kept for ended exports removed');
      } catch (err) {
        this.deps.logger.error({ err }, 'export: the sweep failed');
      } finally {
        this.sweeping = null;
      }
    })();
    return this.sweeping;
  }

  start(): void {
    const every = this.deps.sweepMs ?? 60_000;
    void this.sweep();
    if (every > 0) this.timer = setInterval(() => void this.sweep(), every).unref();
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.sweeping;
  }
}
