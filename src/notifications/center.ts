/**
 * The notification center (cozy-stack's model/notification/center): checks a notification's category,
 * then delivers it at once or, with `at`, from an @at trigger of the internal `notification` worker (kept in
 * jobs.sqlite, so a restart loses none). Delivering follows the owner's preferences (preferences.ts):
 * in-app is the document written in io.cozy.notifications (the DocStore publishes its CREATED event on the
 * bus, which realtime clients get); mail is a `sendmail` job in `noreply` mode (mail.ts renders it).
 * A `stateful` category sends nothing when the state did not change since its last notification.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import type { HearthConfig } from '../config/types.js';
import { Conflict, NotFound, TooManyRequests } from '../common/errors.js';
import type { Doc, DocStore } from '../data/store.js';
import type { Instance } from '../instances/types.js';
import type { JobEngine } from '../jobs/engine.js';
import type { Scheduler } from '../jobs/scheduler.js';
import { PermanentJobError, type WorkerDef } from '../jobs/types.js';
import { isEmail } from '../mail/validate.js';
import { resolveCategory } from './categories.js';
import { renderNotificationMail } from './mail.js';
import { NotificationPreferences } from './preferences.js';
import { newNotificationId, NOTIFICATION_WORKER, NOTIFICATIONS_DOCTYPE, sourceId, SYSTEM_CATEGORY, type NotificationDoc, type PendingNotification, type Sender } from './types.js';
import type { NotificationInput } from './validate.js';

export interface CenterDeps {
  config: Pick<HearthConfig, 'jobs'>;
  storeOf(instance: Instance): DocStore;
  logger: Logger;
  /** The instance's address, for the link in mails. */
  link(instance: Instance): string;
  /** The job system, read when needed (it is built after the center, whose worker it runs). */
  jobs(): { engine: JobEngine; scheduler: Scheduler };
  /** The instance's secret: it signs what waits in the @at triggers, so that nobody who may PATCH triggers can forge a notification. */
  secret(instance: Instance): Promise<Uint8Array>;
  now?: () => number;
}

export interface Delivery {
  doc: NotificationDoc;
  /** Written in io.cozy.notifications (false when the owner turned in-app off for its category). */
  stored: boolean;
  channels: { in_app: boolean; mail: boolean };
  /** A stateful category whose state did not change: nothing was sent, `doc` is the previous notification. */
  unchanged?: boolean;
}

export type PushResult = Delivery | { doc: PendingNotification['doc']; scheduledAt: string };

/** Delayed notifications an instance may have waiting. */
export const MAX_PENDING = 1000;

function sameState(a: unknown, b: unknown): boolean {
  return a === b || (a === undefined && b === null) || (a === null && b === undefined);
}

export class NotificationCenter {
  readonly preferences: NotificationPreferences;
  private readonly now: () => number;
  private readonly log: Logger;

  constructor(private readonly deps: CenterDeps) {
    this.preferences = new NotificationPreferences(deps.storeOf);
    this.now = deps.now ?? Date.now;
    this.log = deps.logger.child({ component: 'notifications' });
  }

  /** Checks the category for this sender, then delivers now or schedules the delivery at `input.at`. */
  async push(instance: Instance, sender: Sender, input: NotificationInput): Promise<PushResult> {
    const { key, props } = resolveCategory(this.deps.config, sender, input.category);
    const now = this.now();
    const deliverAt = input.at !== undefined && input.at > now ? input.at : now;
    const doc: PendingNotification['doc'] = {
      _id: newNotificationId(deliverAt), source_id: sourceId(sender, input.category, input.category_id), originator: sender.originator,
      ...(sender.slug ? { slug: sender.slug } : {}), category: input.category, ...(input.category_id ? { category_id: input.category_id } : {}),
      title: input.title, priority: input.priority ?? props.default_priority ?? 'normal',
    };
    for (const k of ['message', 'state', 'data', 'content', 'content_html'] as const) if (input[k] !== undefined) Object.assign(doc, { [k]: input[k] });
    const pending: PendingNotification = {
      doc, key, stateful: props.stateful === true,
      mailRequested: (input.preferred_channels ?? []).includes('mail') || input.content !== undefined || input.content_html !== undefined,
    };
    if (deliverAt === now) return this.deliver(instance, pending);
    const { scheduler } = this.deps.jobs();
    const waiting = await scheduler.list(instance.domain, { workers: [NOTIFICATION_WORKER], types: ['@at'] });
    if (waiting.length >= MAX_PENDING) throw new TooManyRequests(`this instance already has ${waiting.length} notifications waiting for their "at": send this one without "at", or later`, 60);
    const scheduledAt = new Date(deliverAt).toISOString();
    const sealed = JSON.stringify(pending);
    await scheduler.create(instance.domain, { type: '@at', arguments: scheduledAt, worker: NOTIFICATION_WORKER, message: { pending: sealed, mac: await this.mac(instance, sealed) } });
    return { doc, scheduledAt };
  }

  /** A notification of the stack itself, in the `system` category (mailed to the owner by default). */
  pushStack(instance: Instance, n: Omit<NotificationInput, 'category'>): Promise<PushResult> {
    return this.push(instance, { originator: 'stack', slug: '' }, { ...n, category: SYSTEM_CATEGORY });
  }

  /** Delivers now, on the channels the owner's preferences give. Safe to run again after a failure (the worker retries). */
  async deliver(instance: Instance, p: PendingNotification): Promise<Delivery> {
    const prefs = await this.preferences.effective(instance, p.key);
    const store = this.deps.storeOf(instance);
    if (p.stateful) {
      const last = await this.lastOf(store, p.doc.source_id, p.doc._id);
      if (last && sameState(last.state, p.doc.state)) return { doc: last, stored: true, unchanged: true, channels: { in_app: false, mail: false } };
    }
    const at = new Date(this.now()).toISOString();
    let doc: NotificationDoc = { ...p.doc, created_at: at, last_sent: at };
    if (prefs.in_app) {
      try {
        doc = (await store.put(NOTIFICATIONS_DOCTYPE, doc as unknown as Doc)).doc as unknown as NotificationDoc;
      } catch (err) {
        if (!(err instanceof Conflict)) throw err;
        doc = (await store.get(NOTIFICATIONS_DOCTYPE, doc._id)) as unknown as NotificationDoc; // a retry: it was written
      }
    }
    // cozy-stack: a stateful notification whose state is false or 0 is recorded but not sent
    const quiet = p.stateful && (doc.state === false || doc.state === 0);
    const wantMail = !quiet && (prefs.mail === true || (prefs.mail === 'requested' && p.mailRequested));
    let mail = false;
    if (wantMail && instance.email && isEmail(instance.email)) {
      await this.deps.jobs().engine.push(instance.domain, { worker: 'sendmail', message: renderNotificationMail(instance, this.deps.link(instance), doc) });
      mail = true;
    } else if (wantMail) {
      this.log.warn({ domain: instance.domain, id: doc._id }, 'notification not mailed: the instance has no owner email address (hearth instances modify --email)');
    }
    return { doc, stored: prefs.in_app, channels: { in_app: prefs.in_app, mail } };
  }

  private async lastOf(store: DocStore, source: string, except: string): Promise<NotificationDoc | null> {
    const res = await store.find(NOTIFICATIONS_DOCTYPE, { selector: { source_id: source, _id: { $ne: except } }, sort: [{ field: '_id', dir: 'desc' }], limit: 1, skip: 0 });
    return (res.docs[0] as unknown as NotificationDoc | undefined) ?? null;
  }

  /** One page of the owner's notifications, newest first; `next` is the cursor of the following page. */
  async list(instance: Instance, limit: number, cursor?: string): Promise<{ docs: NotificationDoc[]; next: string | null; total: number }> {
    const res = await this.deps.storeOf(instance).allDocs(NOTIFICATIONS_DOCTYPE, {
      descending: true, include_docs: true, skipDesign: true, limit: limit + 2, ...(cursor ? { startkey: cursor } : {}),
    });
    const rows = res.rows.filter((r) => r.doc && r.id !== cursor);
    const docs = rows.slice(0, limit).map((r) => r.doc as unknown as NotificationDoc);
    return { docs, next: rows.length > limit ? docs[docs.length - 1]!._id : null, total: res.total_rows };
  }

  async get(instance: Instance, id: string): Promise<NotificationDoc> {
    try {
      return (await this.deps.storeOf(instance).get(NOTIFICATIONS_DOCTYPE, id)) as unknown as NotificationDoc;
    } catch (err) {
      if (err instanceof NotFound) throw new NotFound(`no notification ${id.slice(0, 64)}`);
      throw err;
    }
  }

  private async mac(instance: Instance, text: string): Promise<string> {
    const key = createHmac('sha256', await this.deps.secret(instance)).update('hearth notifications').digest();
    return createHmac('sha256', key).update(text).digest('base64url');
  }

  /** The PendingNotification of a trigger's message, if its signature is right. */
  private async unseal(instance: Instance, message: unknown): Promise<PendingNotification> {
    const m = message as { pending?: unknown; mac?: unknown } | null;
    const bad = () => new PermanentJobError('notification: the arguments are not a pending notification signed by this server (queued by POST /notifications with "at")');
    if (!m || typeof m.pending !== 'string' || typeof m.mac !== 'string') throw bad();
    const want = Buffer.from(await this.mac(instance, m.pending));
    const got = Buffer.from(m.mac);
    if (want.length !== got.length || !timingSafeEqual(want, got)) throw bad();
    const p = JSON.parse(m.pending) as PendingNotification;
    if (!p || typeof p !== 'object' || !p.doc || typeof p.doc._id !== 'string' || typeof p.key !== 'string') throw bad();
    return p;
  }

  /** The internal worker that delivers the notifications of `at` (its @at triggers carry a signed PendingNotification). */
  worker(): WorkerDef {
    return {
      name: NOTIFICATION_WORKER,
      internal: true,
      concurrency: 2,
      maxExecCount: 3,
      timeoutSeconds: 30,
      run: async (ctx) => {
        const d = await this.deliver(ctx.instance, await this.unseal(ctx.instance, ctx.job.message));
        ctx.log.info({ id: d.doc._id, ...d.channels, unchanged: d.unchanged === true }, 'notification delivered');
      },
    };
  }
}
