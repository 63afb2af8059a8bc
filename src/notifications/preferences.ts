/**
 * The owner's notification preferences, per category and channel, in the instance's DocStore as the
 * io.cozy.settings document `io.cozy.settings.notifications` (`{categories: {<key>: {mail, in_app}}}`, a key
 * being `system` or `<slug>/<category>`). What is not set takes the defaults, which follow cozy-stack: the
 * stack's own notifications go by mail; an app's go by mail only when it asks for it (`"mail"` in its
 * `preferred_channels`, or a `content`/`content_html`, which cozy-stack mails); all are shown in-app.
 */
import { BadRequest, Conflict, NotFound, UnprocessableEntity } from '../common/errors.js';
import type { Doc, DocStore, Json } from '../data/store.js';
import type { Instance } from '../instances/types.js';
import type { KnownCategory } from './categories.js';
import { SYSTEM_CATEGORY } from './types.js';

export const PREFS_DOCTYPE = 'io.cozy.settings';
export const PREFS_ID = 'io.cozy.settings.notifications';
export const MAX_KEYS = 1000;

/** `requested`: by mail when the notification asks for it. */
export type MailPref = boolean | 'requested';
export interface ChannelPrefs {
  mail: MailPref;
  in_app: boolean;
}
type Overrides = Record<string, Partial<ChannelPrefs>>;

export function defaultsFor(key: string): ChannelPrefs {
  return key === SYSTEM_CATEGORY ? { mail: true, in_app: true } : { mail: 'requested', in_app: true };
}

/** The stored overrides, read tolerantly (the document can also be written through /data): bad values are ignored. */
function overridesOf(doc: Doc | null): Overrides {
  const raw = doc?.categories;
  const out: Overrides = {};
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return out;
  for (const [key, v] of Object.entries(raw)) {
    if (!v || typeof v !== 'object' || Array.isArray(v)) continue;
    const o: Partial<ChannelPrefs> = {};
    if (typeof v.mail === 'boolean' || v.mail === 'requested') o.mail = v.mail;
    if (typeof v.in_app === 'boolean') o.in_app = v.in_app;
    out[key] = o;
  }
  return out;
}

/** A change from PUT/PATCH: `{mail?: true|false|"requested"|null, in_app?: true|false|null}` (null: back to the default). */
function changeOf(key: string, raw: unknown): Partial<Record<keyof ChannelPrefs, MailPref | null>> {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new BadRequest(`categories["${key}"] must be {"mail": true|false|"requested", "in_app": true|false} (null resets a channel)`);
  const out: Partial<Record<keyof ChannelPrefs, MailPref | null>> = {};
  for (const [channel, v] of Object.entries(raw as Record<string, unknown>)) {
    if (channel === 'mail' && (typeof v === 'boolean' || v === 'requested' || v === null)) out.mail = v;
    else if (channel === 'in_app' && (typeof v === 'boolean' || v === null)) out.in_app = v;
    else if (channel !== 'mail' && channel !== 'in_app') throw new BadRequest(`categories["${key}"]: unknown channel "${channel.slice(0, 40)}" (mail or in_app)`);
    else throw new BadRequest(`categories["${key}"].${channel} must be ${channel === 'mail' ? 'true, false, "requested"' : 'true, false'} or null`);
  }
  return out;
}

export class NotificationPreferences {
  constructor(private readonly storeOf: (instance: Instance) => DocStore) {}

  private async load(instance: Instance): Promise<Doc | null> {
    try {
      return await this.storeOf(instance).get(PREFS_DOCTYPE, PREFS_ID);
    } catch (err) {
      if (err instanceof NotFound) return null;
      throw err;
    }
  }

  /** The channels a category's notifications take now. */
  async effective(instance: Instance, key: string): Promise<ChannelPrefs> {
    return { ...defaultsFor(key), ...overridesOf(await this.load(instance))[key] };
  }

  /** The JSON-API resource: every known category with its channels, its defaults and its description. */
  async resource(instance: Instance, known: KnownCategory[]): Promise<Record<string, unknown>> {
    const doc = await this.load(instance);
    const overrides = overridesOf(doc);
    const categories: Record<string, unknown> = {};
    for (const c of known) {
      const def = defaultsFor(c.key);
      categories[c.key] = { ...def, ...overrides[c.key], default: def, ...(c.slug ? { slug: c.slug } : {}), category: c.category, ...(c.props.description ? { description: c.props.description } : {}) };
    }
    return { type: PREFS_DOCTYPE, id: PREFS_ID, attributes: { categories }, meta: doc?._rev ? { rev: doc._rev } : {}, links: { self: '/notifications/preferences' } };
  }

  /** PATCH merges the changes into the stored ones; PUT (replace) starts from the defaults. Only known categories are accepted. */
  async change(instance: Instance, categories: Record<string, unknown>, known: KnownCategory[], replace: boolean): Promise<void> {
    const keys = new Set(known.map((c) => c.key));
    const entries = Object.entries(categories);
    const changes = entries.map(([key, v]) => {
      if (!keys.has(key)) {
        const names = [...keys].slice(0, 30).map((k) => `"${k}"`).join(', ');
        throw new UnprocessableEntity(`there is no notification category "${key.slice(0, 100)}": the known ones are ${names} (GET /notifications/preferences lists them)`);
      }
      return [key, changeOf(key, v)] as const;
    });
    for (let attempt = 0; ; attempt++) {
      const doc = await this.load(instance);
      const next: Overrides = replace ? {} : overridesOf(doc);
      for (const [key, change] of changes) {
        const o: Record<string, MailPref> = { ...next[key] };
        for (const [channel, v] of Object.entries(change)) {
          if (v === null) delete o[channel];
          else o[channel] = v;
        }
        if (Object.keys(o).length) next[key] = o as Partial<ChannelPrefs>;
        else delete next[key];
      }
      const out: Doc = { _id: PREFS_ID, categories: next as unknown as Json };
      if (doc?._rev) out._rev = doc._rev;
      try {
        await this.storeOf(instance).put(PREFS_DOCTYPE, out);
        return;
      } catch (err) {
        if (!(err instanceof Conflict) || attempt >= 2) throw err;
      }
    }
  }
}
