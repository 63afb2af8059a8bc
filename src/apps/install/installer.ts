/**
 * Install, update and uninstall of web apps and konnectors (cozy-apps.md §4.4–4.5). The app's doc
 * (`io.cozy.apps/<slug>` / `io.cozy.konnectors/<slug>`) carries its state; every write of it is a realtime
 * event (the DocStore publishes them). One lock per instance/kind/slug (the `Locks` interface) guards the
 * state transitions: a second install of a slug being installed is a 409. On Redis the lock is fenced (common/locks.ts
 * fencedLock): the writes of a holder paused past its lease are refused once another holder wrote. A failed install leaves no doc,
 * no permission document, no trigger and no code reference.
 */
import { BadRequest, Conflict, HearthError, NotFound, ServiceUnavailable, UnprocessableEntity } from '../../common/errors.js';
import { currentFence, fencedLock, withFence, type Fence, type Locks } from '../../common/locks.js';
import type { Doc, DocStore } from '../../data/store.js';
import type { Instance } from '../../instances/types.js';
import type { PermissionResolver } from '../../permissions/resolve.js';
import { findApp } from '../repo.js';
import { KIND, SLUG_RE, type AppDoc, type AppKind, type AppState, type Manifest } from '../types.js';
import { manifestRules, needsAck, rulesAfterUpdate } from './permissions.js';
import { crashPoint } from '../../common/crash-point.js';
import { appLockKey, InstallJournal, type Recovered, type UpdateUndo } from './journal.js';
import type { InstallIntent } from '../code/store.js';
import { planTriggers, removeTriggers, servicesOf, type ServiceTriggers } from './services.js';
import type { AppCode, FetchedPackage, InstallOptions, OnState, Outcome, UpdateOptions } from './types.js';

export interface InstallerDeps {
  storeOf(instance: Instance): DocStore;
  locks: Locks;
  perms: Pick<PermissionResolver, 'appPermissions' | 'setAppPermissions' | 'appPermissionsWrite'>;
  code: AppCode;
  triggers: ServiceTriggers;
  /**
   * The copy of a trigger the job mirror keeps in the instance's io.cozy.triggers (jobs/mirror.ts): an install writes
   * its triggers' copies in its own commit, so that the mirror finds them made and writes nothing. None: the mirror does.
   */
  triggerCopy?: (trigger: { _id: string }) => { doctype: string; doc: Doc };
  /** Updates whose permissions changed apply without the owner's acknowledgement (apps.permissionsSkipVerification). */
  skipPermissionsCheck: boolean;
  now?: () => Date;
}

/** One operation started: `fetched` once the package is stored (its errors are the request's), `done` at the end. */
export interface Operation {
  fetched: Promise<AppDoc>;
  done: Promise<Outcome>;
}

/** An operation older than this in `installing`/`upgrading` is taken as stuck (a crash): it may be run again. */
export const STUCK_MS = 15 * 60_000;
const SCHEMES = /^(registry|https?|file|git|git\+https?):\/\//;
const DEFAULT_ROUTES = { '/': { folder: '/', index: 'index.html', public: false } };

/** Fields the installer owns: a manifest cannot set them. */
const OWN = ['_id', '_rev', '_deleted', 'source', 'state', 'checksum', 'available_version', 'error', 'created_at', 'updated_at', 'trigger_id', 'on_delete_account_jobs'];

export function checkSlug(slug: string): void {
  if (!SLUG_RE.test(slug)) throw new UnprocessableEntity(`invalid slug "${slug.slice(0, 80)}": lower-case letters, digits and dashes (parameter slug)`, undefined, 'slug');
}

export function checkSource(source: string): void {
  if (!SCHEMES.test(source)) throw new UnprocessableEntity(`unsupported source "${source.slice(0, 120)}" (parameter Source): use registry://, https://, http://, git://, git+https:// or file://`, undefined, 'Source');
}

export class Installer {
  private readonly now: () => Date;
  private readonly journal: InstallJournal;

  constructor(private readonly deps: InstallerDeps) {
    this.now = deps.now ?? (() => new Date());
    this.journal = new InstallJournal(deps);
  }

  private lockKey(instance: Instance, kind: AppKind, slug: string): string {
    return appLockKey(instance, kind, slug);
  }

  /** At start: finishes or undoes the installs, updates and uninstalls a stop left in flight (journal.ts); `before`: this process's start. */
  recoverInFlight(instanceOf: (domain: string, id: string) => Promise<Instance | null>, onLater?: (r: Recovered | Error) => void): Promise<Recovered> {
    return this.journal.recover(instanceOf, onLater);
  }

  /** At stop: lets the journal's intents of ended installs go. */
  close(): Promise<void> {
    return this.journal.close();
  }

  /** Writes the doc, after `before` (in the same commit where the engine can). */
  private async write(instance: Instance, kind: AppKind, doc: AppDoc, onState?: OnState, before: Array<{ doctype: string; doc: Doc }> = []): Promise<AppDoc> {
    doc.updated_at = this.now().toISOString();
    const store = this.deps.storeOf(instance);
    const mine = { doctype: KIND[kind].doctype, doc: doc as unknown as Doc };
    const res = before.length ? (await store.putInOrder([...before, mine])).at(-1)! : await store.put(mine.doctype, mine.doc);
    const stored = res.doc as unknown as AppDoc;
    onState?.(stored);
    return stored;
  }

  private stuck(doc: AppDoc): boolean {
    return this.now().getTime() - Date.parse(doc.updated_at) > STUCK_MS;
  }

  private busy(doc: AppDoc): boolean {
    return (doc.state === 'installing' || doc.state === 'upgrading') && !this.stuck(doc);
  }

  /** The doc of a fetched package: the whole manifest, then what the installer owns. */
  private docFrom(kind: AppKind, slug: string, pkg: FetchedPackage, base: AppDoc, parameters: unknown): AppDoc {
    const manifest: Manifest = { ...pkg.manifest };
    if (manifest.type !== undefined && manifest.type !== kind) throw new BadRequest(`the manifest's type is "${String(manifest.type)}", not "${kind}"`);
    if (manifest.slug !== undefined && manifest.slug !== slug) throw new BadRequest(`the manifest's slug is "${String(manifest.slug)}", not "${slug}"`);
    for (const k of OWN) delete manifest[k];
    const doc: AppDoc = {
      ...manifest, slug, type: kind,
      _id: base._id, ...(base._rev ? { _rev: base._rev } : {}),
      source: pkg.source, state: base.state, version: pkg.version, checksum: pkg.sha256,
      created_at: base.created_at, updated_at: base.updated_at,
    };
    if (kind === 'webapp' && !doc.routes) doc.routes = DEFAULT_ROUTES;
    if (parameters !== undefined) doc.parameters = parameters;
    return doc;
  }

  private start(work: (fetched: (doc: AppDoc) => void) => Promise<AppDoc>): Operation {
    let onFetched!: (doc: AppDoc) => void;
    let onFailed!: (e: unknown) => void;
    const fetched = new Promise<AppDoc>((ok, ko) => {
      onFetched = ok;
      onFailed = ko;
    });
    fetched.catch(() => undefined); // the route may not wait for it (SSE): the outcome says it too
    const done = work(onFetched).then(
      (doc): Outcome => ({ doc, error: null }),
      (e: unknown): Outcome => {
        onFailed(e);
        return { doc: null, error: e instanceof Error ? e : new Error(String(e)) };
      },
    );
    return { fetched, done };
  }

  /**
   * Starts an install: 422 (bad slug or scheme) and 409 (already installed) are thrown here, before anything is written.
   * When the code is to be downloaded, the doc is written at once in state `installing` (it holds the slug while the
   * download runs, and a stop then leaves it for recoverInterrupted). When the code is stored already (the same version
   * on another instance), the install holds the slug's lock to its end instead: its doc is written once, at its end
   * state, after its permission document and its triggers (`installing` is still the answer of the request and the
   * first state of its progress, but neither a stored revision nor a realtime event).
   */
  async install(instance: Instance, kind: AppKind, slug: string, opts: InstallOptions, onState?: OnState): Promise<Operation> {
    checkSlug(slug);
    checkSource(opts.source);
    if (opts.parameters !== undefined && opts.source.startsWith('registry://')) throw new BadRequest('Parameters can be given for non-registry sources only');
    const { doctype } = KIND[kind];
    const at = this.now().toISOString();
    const installing = { _id: `${doctype}/${slug}`, slug, type: kind, source: opts.source, state: 'installing', version: '', checksum: '', created_at: at, updated_at: at } as AppDoc;
    let ended!: () => void;
    const end = new Promise<void>((ok) => (ended = ok));
    // an install of stored code holds the lock to its end: its writes carry the lock's fence (a holder paused past its lease writes nothing)
    type Reserved = { first: AppDoc; fetch: () => Promise<FetchedPackage>; stored: string | null; fence?: Fence };
    const { first, fetch, stored, fence } = await new Promise<Reserved>((reserved, refused) => {
      fencedLock(this.deps.locks, this.lockKey(instance, kind, slug), async () => {
        if (await findApp(this.deps.storeOf(instance), kind, slug)) throw new Conflict(`${slug} is already installed`);
        const prepared = await this.deps.code.prepare(instance, kind, slug, opts.source);
        if (!prepared.stored || !prepared.sha256) return reserved({ first: await this.write(instance, kind, installing, onState), fetch: prepared.fetch, stored: null });
        onState?.(installing);
        reserved({ first: installing, fetch: prepared.fetch, stored: prepared.sha256, fence: currentFence() });
        await end;
      }).catch(refused);
    });
    return this.start((fetched) => withFence(fence, async () => {
      let pkg: FetchedPackage | null = null;
      let triggerIds: string[] = [];
      let copies: Array<{ doctype: string; doc: Doc }> = [];
      // the intent (journal.ts) with the code reference, committed before anything names the code: for stored code
      // begun before the fetch (which then finds its reference) and waited for after it, otherwise once the download
      // gave the sha256. Its flush: none of its own on either engine (PostgreSQL: `ordered`, carried by the documents'
      // commit; SQLite: committed without its fsync, a machine crash then read back from the docs: reconcile.ts)
      let intent: { id: string; sha256: string } | null = null;
      const beginning = stored ? this.deps.code.begin(instance, kind, slug, stored) : null;
      beginning?.catch(() => undefined); // awaited below, or in the undo
      try {
        // its commit first where it waits for no flush (PostgreSQL): the fetch then finds the reference and writes nothing
        if (beginning && (await this.deps.code.ordered(instance))) await beginning;
        pkg = await fetch();
        if (beginning) intent = { id: await beginning, sha256: stored! };
        if (!intent || intent.sha256 !== pkg.sha256) {
          if (intent) {
            await this.deps.code.release(instance, kind, slug, intent.sha256);
            await this.deps.code.end([intent.id]);
          }
          intent = { id: await this.deps.code.begin(instance, kind, slug, pkg.sha256), sha256: pkg.sha256 };
        }
        const doc = this.docFrom(kind, slug, pkg, first, opts.parameters);
        const rules = manifestRules(doc);
        fetched(doc);
        // the permission document (checked, its _rev read) while the triggers are made
        const permsWrite = this.deps.perms.appPermissionsWrite(instance, KIND[kind].permKind, slug, rules);
        permsWrite.catch(() => undefined); // awaited below, unless the triggers failed first
        if (kind === 'webapp') {
          // without waiting for the disk: the intent covers them until settle() saw them durable
          const plan = await planTriggers(this.deps.triggers, instance, slug, {}, servicesOf(doc.services), false);
          if (Object.keys(plan.services).length) doc.services = plan.services;
          triggerIds = Object.values(plan.services).flatMap((s) => (s.trigger_id ? [s.trigger_id] : []));
          const copy = this.deps.triggerCopy;
          if (copy) copies = plan.made.map((t) => copy(t));
        }
        crashPoint('apps.install.triggers');
        doc.state = opts.deactivated ? 'installed' : 'ready';
        // the permission document is visible no later than the doc saying `ready` (a client told so finds it): one
        // commit, one flush, on either engine, the install's only one on its path; on PostgreSQL that flush also
        // carries the intent's and the triggers' commits before it (one WAL), which waited for none
        const perms = await permsWrite;
        let written: AppDoc;
        try {
          written = await this.write(instance, kind, doc, onState, [...(perms ? [perms] : []), ...copies]);
        } catch (e) {
          if (!copies.length || !(e instanceof Conflict)) throw e;
          // the job mirror copied a trigger first: the commit again without the copies (the permissions' _rev read again)
          const again = await this.deps.perms.appPermissionsWrite(instance, KIND[kind].permKind, slug, rules);
          written = await this.write(instance, kind, doc, onState, again ? [again] : []);
        }
        crashPoint('apps.install.written');
        this.journal.settle(intent.id, triggerIds.length > 0);
        return written;
      } catch (e) {
        const id = intent?.id ?? (beginning ? await beginning.catch(() => null) : null);
        await this.undoInstall(instance, kind, slug, pkg?.sha256 ?? intent?.sha256 ?? stored, triggerIds);
        if (id) await this.deps.code.end([id]).catch(() => undefined);
        throw e;
      } finally {
        ended();
      }
    }));
  }

  /** What a failed install leaves: nothing. Each step is tried even when another fails. */
  private async undoInstall(instance: Instance, kind: AppKind, slug: string, sha256: string | null, triggerIds: string[]): Promise<void> {
    await removeTriggers(this.deps.triggers, instance, triggerIds);
    await this.deps.perms.setAppPermissions(instance, KIND[kind].permKind, slug, null).catch(() => undefined);
    await this.deleteDoc(instance, kind, slug).catch(() => undefined);
    if (sha256) await this.deps.code.release(instance, kind, slug, sha256).catch(() => undefined);
  }

  private async deleteDoc(instance: Instance, kind: AppKind, slug: string): Promise<void> {
    const doc = await findApp(this.deps.storeOf(instance), kind, slug);
    if (doc) await this.deps.storeOf(instance).put(KIND[kind].doctype, { _id: doc._id, _rev: doc._rev!, _deleted: true });
  }

  /** Records an update's or an uninstall's intent (journal.ts): durable when it resolves. */
  private async begin(instance: Instance, kind: AppKind, slug: string, sha256: string, op: 'update' | 'uninstall', undo: string | null = null): Promise<InstallIntent> {
    const id = await this.deps.code.begin(instance, kind, slug, sha256, op, undo);
    return { id, domain: instance.domain, instanceId: instance.id, kind, slug, sha256, op, undo };
  }

  /**
   * Starts an update: 404 when not installed, 409 while another operation runs, 422 on a bad source. One that fails
   * (an engine's error, not a crash) is undone at once by its journal's rules (journal.ts repair): its doc back to the old
   * version with the error in `error`, the old permissions, triggers and code; once its new doc is written it is
   * finished instead (the old code's reference goes) and the update succeeds (repairUpdate). The caller gets an error
   * only for an update that did not take effect (the SSE `error` event; the doc's `error` after a 202).
   */
  async update(instance: Instance, kind: AppKind, slug: string, opts: UpdateOptions, onState?: OnState): Promise<Operation> {
    checkSlug(slug);
    if (opts.source !== undefined) checkSource(opts.source);
    const { prev, upgrading, intent, current } = await fencedLock(this.deps.locks, this.lockKey(instance, kind, slug), async () => {
      const doc = await findApp(this.deps.storeOf(instance), kind, slug);
      if (!doc) throw new NotFound(`${slug} is not installed`);
      if (this.busy(doc)) throw new Conflict(`${slug} is being ${doc.state === 'installing' ? 'installed' : 'updated'}: try again when it is done`);
      const restState: AppState = doc.state === 'installed' ? 'installed' : 'ready';
      const prevDoc: AppDoc = { ...doc, state: restState };
      // the journal's intent (journal.ts), with what its undo restores, durable before the `upgrading` doc
      const perms = await this.deps.perms.appPermissions(instance, KIND[kind].permKind, slug);
      const undo: UpdateUndo = { state: restState, permissions: (perms?.permissions ?? null) as Record<string, unknown> | null };
      const begun = await this.begin(instance, kind, slug, doc.checksum ?? '', 'update', JSON.stringify(undo));
      try {
        return { prev: prevDoc, intent: begun, current: perms, upgrading: await this.write(instance, kind, { ...doc, state: 'upgrading' }, onState) };
      } catch (e) {
        await this.deps.code.end([begun.id]);
        throw e;
      }
    });
    const source = opts.source ?? prev.source;
    // the update's last doc once written (it then took effect, whatever fails after), and whether the fetch's part ended
    let took: AppDoc | null = null;
    let begun = false;
    const ended = async (doc: AppDoc): Promise<AppDoc> => {
      took = doc;
      crashPoint('apps.update.ended');
      await this.deps.code.end([intent.id]);
      return doc;
    };
    return this.start(async (fetched) => {
      try {
        const pkg = await this.deps.code.fetch(instance, kind, slug, source);
        const next = this.docFrom(kind, slug, pkg, { ...upgrading, created_at: prev.created_at }, prev.parameters);
        fetched(next);
        begun = true;
        if (pkg.sha256 === prev.checksum) {
          const { available_version: _done, ...rest } = { ...upgrading, ...(source !== prev.source ? { source } : {}), state: prev.state };
          return await ended(await this.write(instance, kind, rest as AppDoc, onState));
        }
        if (needsAck(kind, prev, next) && !opts.permissionsAcked && !this.deps.skipPermissionsCheck) {
          await this.deps.code.release(instance, kind, slug, pkg.sha256);
          return await ended(await this.write(instance, kind, { ...upgrading, state: prev.state, available_version: pkg.version, source }, onState));
        }
        const rules = rulesAfterUpdate(manifestRules(prev), manifestRules(next), (current?.permissions ?? {}) as Record<string, unknown>);
        let stale: string[] = [];
        if (kind === 'webapp') {
          const plan = await planTriggers(this.deps.triggers, instance, slug, servicesOf(prev.services), servicesOf(next.services));
          next.services = plan.services;
          stale = plan.stale;
        }
        await this.deps.perms.setAppPermissions(instance, KIND[kind].permKind, slug, rules);
        // the old version's triggers go before the end state, so that a client told "ready" sees none of them
        await removeTriggers(this.deps.triggers, instance, stale);
        crashPoint('apps.update.applied');
        next.state = prev.state;
        const written = (took = await this.write(instance, kind, next, onState));
        crashPoint('apps.update.written');
        // The old code's reference goes only now: the journal's undo needs that code until the new doc is written.
        // So a client told `ready` may, for a moment, find the old version still referenced too. Harmless: a reference
        // only keeps code from gc (the old code stays a moment longer), and the one gc must never miss, that of the
        // code a `ready` doc names, is durable no later than that doc (the fetch's acquire waited for it) and goes only
        // once a later durable doc names other code or none. Crash or not, the journal then releases the old one
        // (repair, or the next start: the doc is written, so the update is finished), never the one the doc names.
        await this.deps.code.release(instance, kind, slug, prev.checksum);
        return await ended(written);
      } catch (e) {
        return this.repairUpdate(instance, intent, e, { took, begun, version: prev.version }, onState);
      }
    });
  }

  /**
   * An update that failed (an engine's error): everything it changed is put back by its journal's rules (the new
   * triggers, permissions and code go, the stale triggers are made again with their ids), or it is finished once its
   * last doc was written. The caller gets what happened: the doc when the update took effect (`took`: its last doc was
   * written; or the journal found it written), an error saying it was undone otherwise (the error itself when it came
   * before the package was read, `begun` false: the request's), or that it is still being repaired.
   */
  private async repairUpdate(instance: Instance, intent: InstallIntent, e: unknown, at: { took: AppDoc | null; begun: boolean; version: string }, onState?: OnState): Promise<AppDoc> {
    const { kind, slug } = intent;
    const message = e instanceof Error ? e.message : String(e);
    const done = await this.journal.repair(instance, intent, { error: message });
    if (done === 'finished') {
      const doc = await findApp(this.deps.storeOf(instance), kind, slug).catch(() => null);
      if (doc) onState?.(doc);
      const now = doc ?? at.took;
      if (now) return now;
      throw new ServiceUnavailable(`the update of ${slug} took effect but its doc cannot be read (${message})`);
    }
    if (at.took) return at.took; // its intent is ended in the background: the next start's at worst
    if (done === null) throw new ServiceUnavailable(`the update of ${slug} failed (${message}) and could not be undone yet: it is retried in the background`);
    if (!at.begun && e instanceof Error) throw e;
    throw new Error(`the update of ${slug} failed (${message}): it was undone, ${slug} is back to version ${at.version}`);
  }

  /**
   * An install or update that a stop cut short (its doc still `installing`/`upgrading`, last written before `before`, the
   * start of this process): an install is undone as a failed one is, an update goes back to the version it had. Returns the
   * doc as it is then (null when there is none). Operations of this process are left alone.
   */
  async recoverInterrupted(instance: Instance, kind: AppKind, slug: string, before: Date): Promise<AppDoc | null> {
    const doc = await fencedLock(this.deps.locks, this.lockKey(instance, kind, slug), async () => {
      const found = await findApp(this.deps.storeOf(instance), kind, slug);
      if (!found || (found.state !== 'installing' && found.state !== 'upgrading') || Date.parse(found.updated_at) >= before.getTime()) return { found, undo: false };
      if (found.state === 'upgrading') return { found: await this.write(instance, kind, { ...found, state: 'ready' }), undo: false };
      return { found: null, undo: true };
    });
    if (doc.undo) await this.undoInstall(instance, kind, slug, null, []);
    return doc.found;
  }

  /** Drops a stale `available_version` (the lazy update found the installed version is the latest again). */
  async clearAvailableVersion(instance: Instance, kind: AppKind, slug: string): Promise<AppDoc | null> {
    return fencedLock(this.deps.locks, this.lockKey(instance, kind, slug), async () => {
      const doc = await findApp(this.deps.storeOf(instance), kind, slug);
      if (!doc?.available_version || this.busy(doc)) return doc;
      const { available_version: _stale, ...rest } = doc;
      return this.write(instance, kind, rest as AppDoc);
    });
  }

  /**
   * Uninstall: the triggers, the permission document, the doc, then the code reference. A web app that an OAuth
   * client still names (`software_id` `registry://<slug>`) is refused (400); one being installed or updated is a 409.
   */
  async uninstall(instance: Instance, kind: AppKind, slug: string): Promise<AppDoc> {
    checkSlug(slug);
    return fencedLock(this.deps.locks, this.lockKey(instance, kind, slug), async () => {
      const store = this.deps.storeOf(instance);
      const doc = await findApp(store, kind, slug);
      if (!doc) throw new NotFound(`${slug} is not installed`);
      if (this.busy(doc)) throw new Conflict(`${slug} is being ${doc.state === 'installing' ? 'installed' : 'updated'}: try again when it is done`);
      if (kind === 'webapp' && (await hasOAuthClient(store, slug))) {
        throw new BadRequest(`${slug} has an OAuth client (software_id registry://${slug}): revoke it before uninstalling the app`);
      }
      // the journal's intent (journal.ts): a stop from here on, the next start finishes the uninstall; a failure (an
      // engine's error) is finished at once (repair), or, while the engine still fails, tried again until it works
      const intent = await this.begin(instance, kind, slug, doc.checksum ?? '', 'uninstall');
      try {
        await removeTriggers(this.deps.triggers, instance, Object.values(servicesOf(doc.services)).flatMap((s) => (s.trigger_id ? [s.trigger_id] : [])));
        crashPoint('apps.uninstall.triggers');
        await this.deps.perms.setAppPermissions(instance, KIND[kind].permKind, slug, null);
        await store.put(KIND[kind].doctype, { _id: doc._id, _rev: doc._rev!, _deleted: true });
        if (doc.checksum) await this.deps.code.release(instance, kind, slug, doc.checksum);
        await this.deps.code.end([intent.id]);
      } catch (e) {
        if ((await this.journal.repair(instance, intent, { held: true })) === 'finished') return doc;
        if (e instanceof HearthError) throw e;
        throw new ServiceUnavailable(`${slug} was not uninstalled whole (${e instanceof Error ? e.message : String(e)}): the rest is retried in the background`);
      }
      return doc;
    });
  }
}

async function hasOAuthClient(store: DocStore, slug: string): Promise<boolean> {
  try {
    const res = await store.find('io.cozy.oauth.clients', { selector: { software_id: `registry://${slug}` }, limit: 1, skip: 0 });
    return res.docs.length > 0;
  } catch (e) {
    if (e instanceof NotFound) return false;
    throw e;
  }
}
