/**
 * Notifications as cozy-stack shapes them (docs/notifications.md, model/notification): the stored
 * io.cozy.notifications document, the category properties an app declares in its manifest, and who sent
 * a notification (its `originator` and `slug`, which make its `source_id`).
 */
import { randomBytes } from 'node:crypto';

export const NOTIFICATIONS_DOCTYPE = 'io.cozy.notifications';
/** The internal worker that delivers a notification (at once, or from the @at trigger of `at`). */
export const NOTIFICATION_WORKER = 'notification';
/** The stack's own category, until the stack has finer ones (cozy-stack: disk-quota, oauth-clients, …). */
export const SYSTEM_CATEGORY = 'system';

/** One entry of a manifest's `notifications` map (cozy-stack's notification.Properties). */
export interface CategoryProps {
  description?: string;
  collapsible?: boolean;
  stateful?: boolean;
  multiple?: boolean;
  default_priority?: 'high' | 'normal';
}

export type Originator = 'app' | 'konnector' | 'oauth' | 'cli' | 'owner' | 'stack';

/** Who sends: apps, konnectors and OAuth clients linked to an app send under their slug's categories. */
export interface Sender {
  originator: Originator;
  /** The app or konnector slug ('' for the stack, the CLI and the owner). */
  slug: string;
}

export type State = string | number | boolean;

/** The document stored in io.cozy.notifications (cozy-stack's fields; `preferred_channels` and `at` are not kept). */
export interface NotificationDoc {
  _id: string;
  _rev?: string;
  source_id: string;
  originator: Originator;
  slug?: string;
  category: string;
  category_id?: string;
  created_at: string;
  last_sent: string;
  title: string;
  message?: string;
  priority: 'high' | 'normal';
  state?: State;
  data?: Record<string, unknown>;
  content?: string;
  content_html?: string;
  /** Hearth's read mark (read-state.ts): when the owner marked it read; absent while unread. */
  read_at?: string;
}

/**
 * What the `notification` worker delivers: the document to create (without its dates, set on delivery),
 * the preference key of its category, and what the category and the request said about channels.
 */
export interface PendingNotification {
  doc: Omit<NotificationDoc, '_rev' | 'created_at' | 'last_sent'>;
  /** `system` or `<slug>/<category>` (see preferences.ts). */
  key: string;
  stateful: boolean;
  /** The notification asks for a mail: "mail" in `preferred_channels`, or a `content`/`content_html` (cozy-stack mails those). */
  mailRequested: boolean;
}

/** cozy-stack's source: `cozy/<originator>/<slug>/<category>/<category_id>`. */
export function sourceId(sender: Sender, category: string, categoryId: string | undefined): string {
  return `cozy/${sender.originator}/${sender.slug}/${category}/${categoryId ?? ''}`;
}

/**
 * 32 hex digits, the first 12 the delivery time in ms: ids sort by delivery, so the listing pages by id,
 * newest first, and a delayed notification's id (given at once) already has its place.
 */
export function newNotificationId(deliverAtMs: number): string {
  return Math.max(0, Math.floor(deliverAtMs)).toString(16).padStart(12, '0').slice(-12) + randomBytes(10).toString('hex');
}
