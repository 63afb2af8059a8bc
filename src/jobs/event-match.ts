/**
 * @event triggers (docs/jobs.md, "@event syntax"): the arguments are a space-separated
 * list of rules in the permission-scope form `doctype[:VERBS[:values[:selector]]]`,
 * where VERBS are CREATED, UPDATED, DELETED (a comma list; empty or ALL = any verb).
 * An event matches when one rule does:
 * - same doctype (exactly: no wildcard) and an accepted verb;
 * - no values: any document;
 * - values without selector: the document id is one of them;
 * - values with a selector (a dotted field path): the field's value in the new
 *   document, or else in the old one (a DELETED event's doc is a tombstone), is one
 *   of them;
 * - the single value `!=` with a selector: the field changed between event.old and
 *   event.doc (CREATED and DELETED always count as a change, as in cozy-stack, and so does an UPDATED event without
 *   event.old: a change swept from the changes feed, event-sweep.ts).
 *
 * Not done here: cozy-stack also lets a value without selector be an io.cozy.files
 * directory id matching every file below it; that needs the VFS.
 */
import { BadRequest } from '../common/errors.js';
import type { DocEvent, DocVerb } from '../common/bus.js';
import { isDoctypeName } from '../data/doctype.js';
import { docFetcher } from '../permissions/rules.js';

export interface EventRule {
  doctype: string;
  /** Empty = every verb. */
  verbs: DocVerb[];
  /** Empty = every document. */
  values: string[];
  selector?: string;
}

const SELECTOR_RE = /^[^.\s]+(\.[^.\s]+)*$/;
const EVENT_VERBS: readonly DocVerb[] = ['CREATED', 'UPDATED', 'DELETED'];
const EXAMPLE = '"io.cozy.files:CREATED,UPDATED:image/jpeg:mime" or "io.cozy.bank.operations:UPDATED:!=:category"';

/** Parses @event arguments (BadRequest on an empty list, a bad doctype, verb or selector). */
export function parseEventArguments(args: string): EventRule[] {
  const fail = (why: string): never => {
    throw new BadRequest(`invalid @event arguments "${args}": ${why}; expected doctype[:VERBS[:values[:selector]]], such as ${EXAMPLE}`);
  };
  const parts = args.trim().split(/\s+/).filter(Boolean);
  if (parts.length === 0) fail('no doctype');
  return parts.map((part) => {
    const fields = part.split(':');
    if (fields.length > 4) fail(`"${part}" has too many ":"`);
    const [doctype = '', verbs = '', values = '', selector = ''] = fields;
    if (!isDoctypeName(doctype)) fail(`"${doctype}" is not a valid doctype (lowercase letters, digits, "." and "_", no wildcard)`);
    const rule: EventRule = { doctype, verbs: [], values: values === '' ? [] : values.split(',') };
    if (verbs !== '' && verbs.toUpperCase() !== 'ALL') {
      rule.verbs = [
        ...new Set(
          verbs.split(',').map((v) => {
            const verb = v.trim().toUpperCase() as DocVerb;
            return EVENT_VERBS.includes(verb) ? verb : fail(`"${v}" is not an event verb: use CREATED, UPDATED, DELETED or ALL`);
          }),
        ),
      ];
    }
    if (selector !== '') {
      if (!SELECTOR_RE.test(selector)) fail(`"${selector}" is not a field path`);
      rule.selector = selector;
    }
    if (rule.values.includes('!=') && (rule.values.length > 1 || !rule.selector)) fail('"!=" must be the only value and needs a selector');
    return rule;
  });
}

/** The doctypes the rules listen to, without duplicates (the scheduler subscribes to each). */
export function eventDoctypes(rules: readonly EventRule[]): string[] {
  return [...new Set(rules.map((r) => r.doctype))];
}

/** The strings at a field path; `referenced_by` gives "doctype/id" as in cozy-stack. */
function fetchField(doc: Record<string, unknown>, field: string): string[] {
  if (field === 'referenced_by') {
    const refs = doc.referenced_by;
    if (!Array.isArray(refs)) return [];
    return refs.filter((r): r is Record<string, unknown> => typeof r === 'object' && r !== null).map((r) => `${String(r.type)}/${String(r.id)}`);
  }
  return docFetcher(doc).fetch(field);
}

function sameValues(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function ruleMatches(rule: EventRule, event: DocEvent): boolean {
  if (rule.doctype !== event.doctype) return false;
  if (rule.verbs.length > 0 && !rule.verbs.includes(event.verb)) return false;
  if (rule.values.length === 0) return true;
  if (!rule.selector) return rule.values.includes(event.id);
  const selector = rule.selector;
  if (rule.values[0] === '!=') {
    if (event.verb !== 'UPDATED') return true;
    const old = event.old;
    // no previous revision (a change swept from the changes feed, event-sweep.ts): counted as a change
    return old === undefined || !sameValues(fetchField(old, selector), fetchField(event.doc, selector));
  }
  const hit = (doc: Record<string, unknown>): boolean => fetchField(doc, selector).some((v) => rule.values.includes(v));
  return hit(event.doc) || (event.old !== undefined && hit(event.old));
}

/** True when the event matches at least one rule. */
export function eventMatches(rules: readonly EventRule[], event: DocEvent): boolean {
  return rules.some((rule) => ruleMatches(rule, event));
}
