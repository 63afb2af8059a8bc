/**
 * The body of POST /notifications: JSON-API `{data: {type: "io.cozy.notifications", attributes: {…}}}` with
 * cozy-stack's fields. Its envelope and the fields' types are checked by the route's schema (schemas.ts, 400);
 * here, what a schema cannot say: required texts not blank, fields over their size (413), a bad `at` (400,
 * with an example).
 */
import { BadRequest, PayloadTooLarge } from '../common/errors.js';
import { parseAt } from '../jobs/schedule.js';
import type { State } from './types.js';

/** Sizes in characters (data: bytes of its JSON). */
export const MAX = { category: 128, categoryId: 256, title: 500, message: 10_000, content: 100_000, contentHtml: 200_000, state: 256, data: 32 * 1024 } as const;
/** `at` may be at most this far ahead. */
export const MAX_AHEAD_MS = 366 * 86_400_000;
/** An `at` this late is refused (cozy-stack silently drops @at triggers found more than 24 h late). */
export const MAX_PAST_MS = 24 * 3_600_000;
export const CHANNELS = ['mobile', 'mail', 'sms'] as const;

export interface NotificationInput {
  category: string;
  category_id?: string;
  title: string;
  message?: string;
  priority?: 'high' | 'normal';
  state?: State;
  preferred_channels?: string[];
  data?: Record<string, unknown>;
  content?: string;
  content_html?: string;
  /** The delivery time (epoch ms) when `at` was given. */
  at?: number;
}

/** The attributes as the route's schema checked them. */
export interface NotificationAttributes {
  category?: string | null;
  category_id?: string | null;
  title?: string | null;
  message?: string | null;
  content?: string | null;
  content_html?: string | null;
  priority?: 'high' | 'normal' | '' | null;
  state?: State | null;
  preferred_channels?: Array<(typeof CHANNELS)[number]> | null;
  data?: Record<string, unknown> | null;
  at?: unknown;
}
type TextKey = 'category' | 'category_id' | 'title' | 'message' | 'content' | 'content_html';

function text(a: NotificationAttributes, key: TextKey, max: number, required: boolean): string | undefined {
  const v = a[key];
  if (v === undefined || v === null || (v === '' && !required)) {
    if (required) throw new BadRequest(`Notification is not valid: "${key}" is required`);
    return undefined;
  }
  if (required && v.trim() === '') throw new BadRequest(`Notification is not valid: "${key}" must not be empty`);
  if (v.length > max) throw new PayloadTooLarge(`"${key}" has ${v.length} characters, more than the ${max} a notification may carry: shorten it`);
  return v;
}

function atOf(raw: unknown, now: number): number {
  const example = new Date(now + 3_600_000).toISOString().replace(/\.\d+Z$/, 'Z');
  if (typeof raw !== 'string') throw new BadRequest(`"at" must be an ISO-8601 (RFC 3339) date string such as "${example}"`);
  let at: number;
  try {
    at = parseAt(raw);
  } catch {
    throw new BadRequest(`"at" must be an ISO-8601 (RFC 3339) date with a time zone, such as "${example}", not "${raw.slice(0, 60)}"`);
  }
  if (at < now - MAX_PAST_MS) throw new BadRequest(`"at" (${raw.slice(0, 60)}) is more than 24 hours in the past: give a future date, or no "at" to send now`);
  if (at > now + MAX_AHEAD_MS) throw new BadRequest(`"at" (${raw.slice(0, 60)}) is more than a year ahead: notifications are scheduled at most 366 days in advance`);
  return at;
}

export function parseNotificationBody(a: NotificationAttributes, now: number): NotificationInput {
  const input: NotificationInput = { category: text(a, 'category', MAX.category, true)!, title: text(a, 'title', MAX.title, true)! };
  const optional = [['category_id', MAX.categoryId], ['message', MAX.message], ['content', MAX.content], ['content_html', MAX.contentHtml]] as const;
  for (const [key, max] of optional) {
    const v = text(a, key, max, false);
    if (v !== undefined) input[key] = v;
  }
  if (a.priority) input.priority = a.priority;
  if (a.state !== undefined && a.state !== null) {
    const s = a.state;
    if (typeof s === 'string' && s.length > MAX.state) throw new PayloadTooLarge(`"state" is longer than ${MAX.state} characters`);
    input.state = s;
  }
  if (a.preferred_channels !== undefined && a.preferred_channels !== null) input.preferred_channels = [...new Set(a.preferred_channels)];
  if (a.data !== undefined && a.data !== null) {
    const size = Buffer.byteLength(JSON.stringify(a.data));
    if (size > MAX.data) throw new PayloadTooLarge(`"data" weighs ${size} bytes of JSON, more than the ${MAX.data} a notification may carry`);
    input.data = a.data;
  }
  if (a.at !== undefined && a.at !== null && a.at !== '') input.at = atOf(a.at, now);
  return input;
}
