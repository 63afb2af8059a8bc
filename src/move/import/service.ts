/**
 * Imports (cozy-stack model/move/import.go and worker/moves): the precheck of an export link, the start of an import
 * (the instance blocked by a compare-and-swap of its move state: a second import is refused with 409, in any process),
 * the `import` worker, and the import of an archive file given by the operator (admin API, CLI). A run downloads each
 * part to a temporary file (bounded), resets the instance, reads the parts (./importer.ts), then unblocks the instance,
 * mails the owner and, during a move, tells the source (MoveHooks.importDone).
 * A process killed during an import: the job engine runs the job again at the next start (its lease ended) and the run
 * starts over from a clean reset; an import of a file is started over the same way from the move state.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { Conflict, PayloadTooLarge, PreconditionFailed } from '../../common/errors.js';
import type { DocStore } from '../../data/store.js';
import type { FileSystem } from '../../files/fs.js';
import type { Instance } from '../../instances/types.js';
import type { JobDoc, WorkerDef } from '../../jobs/types.js';
import type { Broker } from '../../jobs/broker.js';
import type { PushSpec } from '../../jobs/engine.js';
import type { TriggerInput } from '../../jobs/scheduler.js';
import { PermanentJobError } from '../../jobs/types.js';
import type { MoveStateStore } from '../state.js';
import type { ImportMessage, MoveFrom, MoveHooks } from '../types.js';
import { download, fetchJson, manifestUrlOf, partUrlOf, type FetchPolicy } from './fetch.js';
import { Importer, type ImporterDeps } from './importer.js';
import { withSmallHeapGrowth } from './heap.js';
import { importMail } from './mail.js';
import { emptyReport, type ImportReport } from './report.js';
import { resetInstance, type ResetDeps } from './reset.js';

export const IMPORT_WORKER = 'import';

export interface ImportLimits {
  maxEntries: number;
  maxEntryBytes: number;
  maxDocBytes: number;
  maxTriggers: number;
  /** Bytes of one downloaded part. */
  maxPartBytes: number;
  /** Milliseconds a part may take to download. */
  partTimeoutMs: number;
}

export const DEFAULT_IMPORT_LIMITS: ImportLimits = {
  maxEntries: 2_000_000, maxEntryBytes: 64 * 1024 ** 3, maxDocBytes: 16 * 1024 * 1024, maxTriggers: 10_000,
  maxPartBytes: 256 * 1024 ** 3, partTimeoutMs: 3 * 3600_000,
};

export interface ImportsDeps {
  /** Stores an imported avatar (checked and resized as an upload: settings/avatar.ts). */
  avatar?(instance: Instance, data: Buffer): Promise<void>;
  /** Stores an imported wallpaper (checked and resized as an upload). */
  wallpaper?(instance: Instance, data: Buffer): Promise<void>;
  moveStates: MoveStateStore;
  storeOf(instance: Instance): DocStore;
  fs: FileSystem;
  /** Read when an import runs (the scheduler and the engine are built after the workers). */
  triggers(): { create(domain: string, input: TriggerInput): Promise<unknown>; dropInstance(instanceId: string): Promise<void> };
  engine(): { push(domain: string, spec: PushSpec): Promise<JobDoc>; broker: Pick<Broker, 'list' | 'purge' | 'report'> };
  install(instance: Instance, kind: 'webapp' | 'konnector', slug: string): Promise<'installed' | 'kept'>;
  /** What the reset needs besides the stores: the apps, the instance's sessions (./reset.ts). */
  reset: Pick<ResetDeps, 'apps' | 'dropSessions'> & {
    /** Runs the konnectors' `on_delete_account` scripts for the accounts (a konnector no longer installed is installed again from the registry first) and waits for them (apps/install/on-delete.ts). */
    cleanAccounts(instance: Instance, signal: AbortSignal): Promise<void>;
  };
  instanceByDomain(domain: string): Promise<Instance | null>;
  hooks?: MoveHooks;
  /** Where parts are downloaded (removed after each run). */
  tmpDir: string;
  policy: FetchPolicy;
  limits?: Partial<ImportLimits>;
  logger: Logger;
}

/** An export document as the export server answers it (JSON-API `io.cozy.exports`). */
export interface RemoteExport { id: string; state: string; parts_cursors: string[]; total_size: number; expires_at: string | null }

export type ImportSource = { url: string } | { file: string };
export type ImportProgress = { step: 'download' | 'reset' | 'read' | 'finish'; part?: number; parts?: number; entries?: number };

function parseExport(body: unknown): RemoteExport {
  const data = (body as { data?: { id?: unknown; attributes?: Record<string, unknown> } } | null)?.data;
  const a = data?.attributes;
  if (!a || typeof a !== 'object') throw Object.assign(new PreconditionFailed('the link does not lead to an export'), { parameter: 'url' });
  const cursors = Array.isArray(a.parts_cursors) ? a.parts_cursors.filter((c): c is string => typeof c === 'string').slice(0, 10_000) : [];
  return { id: String(data?.id ?? ''), state: String(a.state), parts_cursors: cursors, total_size: Number(a.total_size ?? 0), expires_at: typeof a.expires_at === 'string' ? a.expires_at : null };
}

const STOPPED = 'the server stopped twice during the import';

const notReady = (why: string) => Object.assign(new PreconditionFailed(why), { parameter: 'url' });

export class Imports {
  readonly limits: ImportLimits;
  private readonly abandoning = new Set<string>();

  constructor(private readonly deps: ImportsDeps) {
    this.limits = { ...DEFAULT_IMPORT_LIMITS, ...deps.limits };
  }

  /** The export behind `link` (a settings link or an export document URL), checked importable into `instance`: 412, 413 or 422 otherwise. */
  async precheck(instance: Instance, link: string): Promise<{ manifestUrl: string; doc: RemoteExport }> {
    const manifestUrl = manifestUrlOf(link);
    const doc = await this.manifest(manifestUrl);
    if (instance.diskQuota !== null && doc.total_size > instance.diskQuota) throw new PayloadTooLarge(`the export (${doc.total_size} bytes) is larger than this instance's quota (${instance.diskQuota} bytes)`);
    return { manifestUrl, doc };
  }

  private async manifest(manifestUrl: string, signal?: AbortSignal): Promise<RemoteExport> {
    const doc = parseExport(await fetchJson(manifestUrl, this.deps.policy, 1024 * 1024, signal));
    if (doc.state !== 'done') throw notReady(`the export is not ready (its state is ${doc.state.slice(0, 20)})`);
    if (doc.expires_at && Date.parse(doc.expires_at) < Date.now()) throw notReady('the export has expired');
    return doc;
  }

  /**
   * Blocks the instance and queues the `import` job (POST /move/imports, a move's target): 409 when an import or a
   * move is already under way. `from`: the status the instance must be in (`moving` for the target of a move).
   */
  async start(instance: Instance, msg: ImportMessage, from: 'moving' | null = null): Promise<void> {
    const next = { status: 'importing' as const, peer: new URL(msg.manifest_url).origin + '/', since: new Date().toISOString(), detail: { source: { url: msg.manifest_url }, message: { ...msg }, by: 'job', domain: instance.domain } };
    if (!(await this.deps.moveStates.transition(instance.id, from, next))) throw new Conflict('an import or a move of this instance is already under way');
    try {
      await this.deps.engine().push(instance.domain, { worker: IMPORT_WORKER, message: msg, instanceId: instance.id });
    } catch (err) {
      await this.deps.moveStates.transition(instance.id, 'importing', null);
      throw err;
    }
  }

  /**
   * Blocks the instance for an import run here (the admin API, the CLI): a zip file of this server, or an export link
   * (downloaded now). 409 when an import or a move is under way. Then `runClaimed` does it.
   */
  async claim(instance: Instance, fileOrLink: string): Promise<ImportSource> {
    const source: ImportSource = /^[a-z][a-z0-9+.-]*:\/\//i.test(fileOrLink) ? { url: manifestUrlOf(fileOrLink) } : { file: fileOrLink };
    const peer = 'url' in source ? `${new URL(source.url).origin}/` : null;
    const state = { status: 'importing' as const, peer, since: new Date().toISOString(), detail: { source, domain: instance.domain } };
    if (!(await this.deps.moveStates.transition(instance.id, null, state))) throw new Conflict('an import or a move of this instance is already under way');
    return source;
  }

  /** Runs a claimed import, then unblocks the instance: the report, or an error carrying it (`report`). */
  runClaimed(instance: Instance, source: ImportSource, progress?: (p: ImportProgress) => void | Promise<void>): Promise<ImportReport> {
    return this.runAndUnblock(instance, source, {}, progress);
  }

  /**
   * At start (after the job engine's): the imports of the admin API and the CLI that a stopped process left are
   * started over in the background, once; cut short again, they are given up (`abandon`). Those of a job are the job
   * engine's (their job runs again, or is given up: the worker's `abandoned`), unless no job of them is left.
   */
  async recover(): Promise<void> {
    for (const { instanceId, state } of await this.deps.moveStates.list()) {
      const source = state.detail.source as ImportSource | undefined;
      if (state.status !== 'importing' || !source || typeof state.detail.domain !== 'string') continue;
      const instance = await this.deps.instanceByDomain(state.detail.domain);
      if (instance?.id !== instanceId) continue;
      const failed = (err: unknown) => this.deps.logger.error({ err, domain: instance.domain }, 'the import failed');
      if (state.detail.by === 'job') {
        const live = await this.deps.engine().broker.list(instance.domain, { worker: IMPORT_WORKER, states: ['queued', 'running'], limit: 1 });
        if (!live.length) void this.abandon(instance, state.detail.message as ImportMessage | undefined, STOPPED).catch(failed);
        continue;
      }
      if (state.detail.restarted === true) {
        void this.abandon(instance, undefined, STOPPED).catch(failed);
        continue;
      }
      if (!(await this.deps.moveStates.transition(instanceId, 'importing', { ...state, detail: { ...state.detail, restarted: true } }))) continue;
      this.deps.logger.warn({ domain: instance.domain }, 'an import that a stop cut short starts over');
      void this.runAndUnblock(instance, source, {}).catch(failed);
    }
  }

  /**
   * Gives up an import that stops cut short twice (or whose job is gone): the instance, still blocked, is reset (what
   * the cut runs wrote is removed, nothing of its data before was left by their reset), then unblocked, and the
   * failure is reported as a failed import's (the mail, or the source of a move told).
   */
  async abandon(instance: Instance, msg: ImportMessage | undefined, error: string): Promise<void> {
    // the job engine's recovery and this process's start may both give it up: once
    if (this.abandoning.has(instance.id)) return;
    this.abandoning.add(instance.id);
    try {
      if ((await this.deps.moveStates.get(instance.id))?.status !== 'importing') return;
      this.deps.logger.error({ domain: instance.domain }, 'an import cut short twice is given up: the instance is reset and unblocked');
      await this.reset(instance);
      await this.recordGivenUp(instance, msg, error);
      await this.unblock(instance, { error, report: emptyReport() }, msg?.move_from ? { move_from: msg.move_from, msg } : {});
    } finally {
      this.abandoning.delete(instance.id);
    }
  }

  worker(): WorkerDef {
    return {
      name: IMPORT_WORKER, internal: true, concurrency: 1, maxExecCount: 2, timeoutSeconds: 3 * 3600,
      run: async (ctx) => {
        const msg = ctx.job.message as ImportMessage | null;
        if (!msg || typeof msg.manifest_url !== 'string') throw new PermanentJobError('import: "manifest_url" must be the URL of an export');
        const state = await this.deps.moveStates.get(ctx.instance.id);
        if (state?.status !== 'importing') {
          // queued without POST /move/imports (a trigger, the CLI): blocked here
          const next = { status: 'importing' as const, peer: null, since: new Date().toISOString(), detail: { source: { url: msg.manifest_url }, message: { ...msg }, by: 'job', domain: ctx.instance.domain } };
          if (!(await this.deps.moveStates.transition(ctx.instance.id, null, next))) throw new PermanentJobError('import: another import or move of this instance is under way');
        }
        // a failed import is reported (mail, job error) and not tried again: a retry would reset the instance once more
        const report = await this.runAndUnblock(ctx.instance, { url: msg.manifest_url }, { move_from: msg.move_from, signal: ctx.signal, msg }).catch((err: unknown) => {
          throw ctx.signal.aborted ? err : new PermanentJobError(err instanceof Error ? err.message : String(err));
        });
        ctx.log.info({ ...report, skipped: report.skipped.slice(0, 20) }, 'import: done');
      },
      // its last try was cut short by a stop: nothing else would unblock the instance
      abandoned: async (job) => {
        const instance = await this.deps.instanceByDomain(job.domain);
        if (instance && instance.id === job.instance_id) await this.abandon(instance, job.message as ImportMessage | undefined, STOPPED);
      },
    };
  }

  private async runAndUnblock(instance: Instance, source: ImportSource, opts: { move_from?: MoveFrom | undefined; signal?: AbortSignal; msg?: ImportMessage }, progress?: (p: ImportProgress) => void | Promise<void>): Promise<ImportReport> {
    const report = emptyReport();
    let error: string | undefined;
    try {
      // V8's old generation held small while it runs (./heap.ts)
      await withSmallHeapGrowth(() => this.run(instance, source, report, { move: !!opts.move_from, ...(opts.signal ? { signal: opts.signal } : {}) }, progress));
    } catch (err) {
      // stopped by the shutdown: the instance stays blocked, and the next start runs the import again
      if (opts.signal?.aborted) throw err;
      error = err instanceof Error ? err.message : String(err);
    }
    await this.unblock(instance, { error, report }, opts);
    if (error !== undefined) throw Object.assign(new Error(`the import failed: ${error}`), { report });
    return report;
  }

  /** Unblocks the instance and reports how the import ended: the mail, or the source of a move told. */
  private async unblock(instance: Instance, { error, report }: { error: string | undefined; report: ImportReport }, opts: { move_from?: MoveFrom | undefined; msg?: ImportMessage }): Promise<void> {
    // unblocked by another process already (both gave the same import up): it reported it
    if (!(await this.deps.moveStates.transition(instance.id, 'importing', null))) return;
    const outcome = { ok: error === undefined, ...(error === undefined ? {} : { error }), report };
    // during a move the move's own mail says how it ended (transfer/hooks.ts): one mail, not two
    const moving = !!(opts.move_from && opts.msg && this.deps.hooks);
    if (!moving) {
      await this.deps.engine().push(instance.domain, { worker: 'sendmail', message: { mode: 'noreply', ...importMail(instance.locale, outcome) }, instanceId: instance.id })
        .catch((err: unknown) => this.deps.logger.warn({ err, domain: instance.domain }, 'import: the result mail was not queued'));
    }
    if (opts.move_from && opts.msg && this.deps.hooks) {
      await this.deps.hooks.importDone(instance, { ...opts.msg, move_from: opts.move_from }, error === undefined ? { ok: true } : { ok: false, error });
    }
  }

  /**
   * The record of a given-up import in the job history (GET /jobs/:id, the accounts of an operator's tools), which the
   * reset has just emptied: an `import` job, errored with the reason. Queued as a client's job (no worker takes it),
   * then reported errored at once.
   */
  private async recordGivenUp(instance: Instance, msg: ImportMessage | undefined, error: string): Promise<void> {
    const engine = this.deps.engine();
    try {
      const job = await engine.push(instance.domain, { worker: IMPORT_WORKER, message: msg ?? null, byClient: true, instanceId: instance.id });
      await engine.broker.report(instance.domain, job._id, 'errored', error, Date.now());
    } catch (err) {
      this.deps.logger.warn({ err, domain: instance.domain }, 'import: the given-up import was not recorded as an errored job');
    }
  }

  private async reset(instance: Instance, signal: AbortSignal = new AbortController().signal): Promise<DocStore> {
    const store = this.deps.storeOf(instance);
    await resetInstance(instance, {
      ...this.deps.reset, store, fs: this.deps.fs, dropTriggers: (i) => this.deps.triggers().dropInstance(i.id),
      dropJobs: (i) => this.dropJobs(i), cleanAccounts: (i) => this.cleanAccounts(i, signal),
    });
    return store;
  }

  /** The konnectors' account-deletion scripts, their tokens let through the blocked instance meanwhile (./gate.ts). */
  private async cleanAccounts(instance: Instance, signal: AbortSignal): Promise<void> {
    const flag = async (on: boolean) => {
      const state = await this.deps.moveStates.get(instance.id);
      if (state?.status !== 'importing') return;
      const { cleaningAccounts: _, ...detail } = state.detail;
      await this.deps.moveStates.transition(instance.id, 'importing', { ...state, detail: on ? { ...detail, cleaningAccounts: true } : detail });
    };
    await flag(true);
    try {
      await this.deps.reset.cleanAccounts(instance, signal);
    } finally {
      await flag(false);
    }
  }

  /**
   * The jobs of the old data (cozy-stack deletes the instance's jobs database): the queued ones are reported errored so
   * that no worker runs them, then every finished one goes. Running ones (this import's job among them) end as they do.
   */
  private async dropJobs(instance: Instance): Promise<void> {
    const { broker } = this.deps.engine();
    for (;;) {
      const queued = await broker.list(instance.domain, { states: ['queued'], limit: 500 });
      if (!queued.length) break;
      for (const job of queued) await broker.report(instance.domain, job._id, 'errored', 'dropped by the reset of an import', Date.now());
    }
    await broker.purge(instance.domain, Date.now() + 1, null);
  }

  /** Downloads (a URL), resets, reads: the instance is blocked meanwhile. */
  private async run(instance: Instance, source: ImportSource, report: ImportReport, opts: { move: boolean; signal?: AbortSignal }, progress?: (p: ImportProgress) => void | Promise<void>): Promise<void> {
    const dir = join(this.deps.tmpDir, `${instance.id}-${process.pid}-${Date.now()}`);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    try {
      let paths: string[];
      if ('file' in source) paths = [source.file];
      else {
        const doc = await this.manifest(source.url, opts.signal);
        const cursors: Array<string | null> = [null, ...doc.parts_cursors];
        paths = [];
        for (const [i, cursor] of cursors.entries()) {
          await progress?.({ step: 'download', part: i, parts: cursors.length });
          const path = join(dir, `part${i}.zip`);
          await download(partUrlOf(source.url, cursor), path, this.deps.policy, this.limits.maxPartBytes, this.limits.partTimeoutMs, opts.signal);
          paths.push(path);
        }
      }
      await progress?.({ step: 'reset' });
      const store = await this.reset(instance, opts.signal);
      const deps: ImporterDeps = {
        store, fs: this.deps.fs, limits: this.limits, move: opts.move, ...(opts.signal ? { signal: opts.signal } : {}),
        createTrigger: async (input) => void (await this.deps.triggers().create(instance.domain, input)),
        install: (kind, slug) => this.deps.install(instance, kind, slug),
        progress: (p) => progress?.({ step: 'read', ...p }),
        ...(this.deps.avatar ? { avatar: (data: Buffer) => this.deps.avatar!(instance, data) } : {}),
        ...(this.deps.wallpaper ? { wallpaper: (data: Buffer) => this.deps.wallpaper!(instance, data) } : {}),
      };
      const importer = new Importer(instance, deps, report);
      for (const [i, path] of paths.entries()) {
        await progress?.({ step: 'read', part: i, parts: paths.length });
        await importer.readPart(path, i);
      }
      await progress?.({ step: 'finish' });
      await importer.finish();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}
