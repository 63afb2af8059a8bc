/**
 * The list query of `GET /registry` (filter, sort, limit, channels): read from a query string, and
 * applied to the applications of one registry (the local folder; the test fixture of cozy's HTTP
 * registry) and to the merge of several (merge.ts sorts with the same comparison).
 */
import { BadRequest } from '../../common/errors.js';
import { isChannel } from './versions.js';
import type { ListQuery, RegistryApp } from './types.js';

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;
/** The fields a list may be sorted on (cozy's registry sorts on these). */
export const SORT_FIELDS = ['slug', 'type', 'editor', 'created_at', 'category', 'label'] as const;

/** The list query of a request's query string (Fastify's parsed object: `filter[type]` is a key of its own). */
export function parseListQuery(q: Record<string, unknown>): ListQuery {
  const one = (k: string): string | undefined => {
    const v = q[k];
    return typeof v === 'string' ? v : Array.isArray(v) && typeof v[0] === 'string' ? v[0] : undefined;
  };
  const query: ListQuery = {};
  const limit = one('limit');
  if (limit !== undefined) {
    if (!/^\d{1,9}$/.test(limit)) throw new BadRequest('limit must be a positive integer');
    query.limit = Math.min(MAX_LIMIT, Number(limit)) || DEFAULT_LIMIT;
  }
  const sort = one('sort');
  if (sort !== undefined && sort !== '') {
    if (!(SORT_FIELDS as readonly string[]).includes(sort.replace(/^-/, ''))) throw new BadRequest(`sort must be one of ${SORT_FIELDS.join(', ')}, or one of them after "-" to reverse`);
    query.sort = sort;
  }
  for (const k of ['versionsChannel', 'latestChannelVersion'] as const) {
    const v = one(k);
    if (v === undefined || v === '') continue;
    if (!isChannel(v)) throw new BadRequest(`${k} must be stable, beta or dev`);
    query[k] = v;
  }
  const cursor = one('cursor');
  if (cursor !== undefined && cursor !== '') query.cursor = cursor;
  for (const [k, v] of Object.entries(q)) {
    const m = /^filter\[([a-z_]{1,40})\]$/.exec(k);
    const value = typeof v === 'string' ? v : undefined;
    if (m?.[1] && value !== undefined) (query.filter ??= {})[m[1]] = value;
  }
  return query;
}

/** Whether an application passes every filter: equal to the field, or one of its values when the field is a list. */
export function matches(app: RegistryApp, filter: Record<string, string> | undefined): boolean {
  for (const [k, want] of Object.entries(filter ?? {})) {
    const have = app[k] ?? (app.latest_version?.manifest as Record<string, unknown> | undefined)?.[k];
    const ok = Array.isArray(have) ? have.some((x) => String(x) === want) : have !== undefined && have !== null && String(have) === want;
    if (!ok) return false;
  }
  return true;
}

const fieldKey = (app: RegistryApp, field: string): string => {
  const v = app[field] ?? (field === 'created_at' ? app.latest_version?.created_at : undefined);
  return v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v);
};

/** The order of a sorted list: by the field (`-field` reverses), then by slug. */
export function sorter(sort: string | undefined): (a: RegistryApp, b: RegistryApp) => number {
  const reverse = sort?.startsWith('-') ?? false;
  const field = sort ? sort.replace(/^-/, '') : 'slug';
  return (a, b) => {
    const ka = fieldKey(a, field);
    const kb = fieldKey(b, field);
    const c = ka < kb ? -1 : ka > kb ? 1 : a.slug < b.slug ? -1 : a.slug > b.slug ? 1 : 0;
    return reverse ? -c : c;
  };
}

/** One page of a whole list (one registry's): filtered, sorted, from offset `cursor`. */
export function pageOf(all: RegistryApp[], query: Omit<ListQuery, 'cursor'> & { cursor?: number }): { data: RegistryApp[]; next: number | null } {
  const list = all.filter((a) => matches(a, query.filter)).sort(sorter(query.sort));
  const from = Math.max(0, query.cursor ?? 0);
  const limit = query.limit ?? DEFAULT_LIMIT;
  const data = list.slice(from, from + limit);
  return { data, next: from + limit < list.length ? from + limit : null };
}
