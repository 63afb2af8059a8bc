/**
 * The If header of RFC 4918 §10.4: lists of conditions (lock tokens and entity tags, each maybe
 * negated with Not), untagged (about the request URL) or tagged with a resource URL. A list is
 * true when all its conditions are; the header is true when one list is. A lock token appearing in
 * it (not negated) is "submitted": that is how a client proves it holds a lock.
 */
import { BadRequest } from '../../common/errors.js';

export interface Condition {
  not: boolean;
  /** A state token (a lock token such as opaquelocktoken:…, or DAV:no-lock, which nothing has). */
  token?: string;
  /** An entity tag, as written (quotes included, W/ kept). */
  etag?: string;
}

export interface TaggedLists {
  /** The resource URL of a tagged list; null for the request URL. */
  tag: string | null;
  lists: Condition[][];
}

/** The state of a resource, against which conditions are evaluated. */
export interface ResourceState {
  etag: string | null;
  /** Tokens of the locks whose scope holds the resource. */
  tokens: string[];
}

const bad = (why: string) => new BadRequest(`invalid If header: ${why}`);

export function parseIf(header: string): TaggedLists[] {
  const out: TaggedLists[] = [];
  let i = 0;
  const ws = () => {
    while (i < header.length && /\s/.test(header[i]!)) i++;
  };
  const until = (close: string) => {
    const end = header.indexOf(close, i);
    if (end < 0) throw bad(`"${close}" missing`);
    const s = header.slice(i, end);
    i = end + 1;
    return s;
  };
  let tagged: boolean | null = null;
  for (ws(); i < header.length; ws()) {
    let tag: string | null = null;
    if (header[i] === '<') {
      i++;
      tag = until('>');
    }
    if ((tag !== null) !== (tagged ?? tag !== null)) throw bad('tagged and untagged lists cannot be mixed');
    tagged = tag !== null;
    const group: TaggedLists = { tag, lists: [] };
    for (ws(); header[i] === '('; ws()) {
      i++;
      const list: Condition[] = [];
      for (ws(); header[i] !== ')'; ws()) {
        if (i >= header.length) throw bad('")" missing');
        let not = false;
        if (/^not\b/i.test(header.slice(i, i + 4))) {
          not = true;
          i += 3;
          ws();
        }
        if (header[i] === '<') {
          i++;
          list.push({ not, token: until('>') });
        } else if (header[i] === '[') {
          i++;
          const start = i;
          if (header.startsWith('W/', i)) i += 2;
          if (header[i] !== '"') throw bad('an entity tag must be quoted');
          const close = header.indexOf('"', i + 1);
          if (close < 0 || header[close + 1] !== ']') throw bad('an entity tag must end with "]"');
          list.push({ not, etag: header.slice(start, close + 1) });
          i = close + 2;
        } else throw bad(`unexpected "${header.slice(i, i + 20)}"`);
      }
      i++;
      if (list.length === 0) throw bad('an empty list "()"');
      group.lists.push(list);
    }
    if (group.lists.length === 0) throw bad('a resource tag without a list');
    out.push(group);
  }
  if (out.length === 0) throw bad('it is empty');
  return out;
}

/** The lock tokens a header submits. */
export const submittedTokens = (groups: TaggedLists[]): Set<string> =>
  new Set(groups.flatMap((g) => g.lists.flat().filter((c) => !c.not && c.token !== undefined).map((c) => c.token!)));

const holds = (c: Condition, s: ResourceState): boolean => {
  const ok = c.token !== undefined ? s.tokens.includes(c.token) : s.etag !== null && c.etag === s.etag;
  return c.not ? !ok : ok;
};

/** True when one list holds for its resource; `stateOf(null)` is the request URL's state. */
export async function evaluateIf(groups: TaggedLists[], stateOf: (tag: string | null) => Promise<ResourceState>): Promise<boolean> {
  for (const g of groups) {
    const state = await stateOf(g.tag);
    if (g.lists.some((list) => list.every((c) => holds(c, state)))) return true;
  }
  return false;
}
