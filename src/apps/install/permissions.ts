/**
 * From a manifest's `permissions` to the app's permission document, and the update rule of the contract
 * (cozy-apps.md §4.5): an update whose rules or terms changed waits for the owner's acknowledgement;
 * rules added after install (PATCH /permissions/apps/:slug) are kept across updates.
 */
import { BadRequest } from '../../common/errors.js';
import { rulesFromMap, type Rule } from '../../permissions/rules.js';
import type { AppKind, Manifest } from '../types.js';

export type RuleMap = Record<string, unknown>;

/** Types a konnector update may add without asking (cozy-stack's carbon copy and electronic safe). */
const TOLERATED = new Set(['io.cozy.certified.carbon_copy', 'io.cozy.certified.electronic_safe']);

/** The manifest's rules, checked as the permission layer reads them (400 when one is not a rule). */
export function manifestRules(manifest: Manifest): RuleMap {
  const raw = manifest.permissions ?? {};
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new BadRequest('the manifest\'s "permissions" must be a map of rules');
  try {
    rulesFromMap(raw as RuleMap);
  } catch (e) {
    throw new BadRequest(`the manifest's permissions are invalid: ${(e as Error).message}`);
  }
  return raw as RuleMap;
}

function ruleKey(r: Rule): string {
  return JSON.stringify([r.type, [...(r.verbs ?? [])].sort(), [...(r.values ?? [])].sort(), r.selector ?? '']);
}

/** Whether moving from `before` to `after` needs the owner's acknowledgement (descriptions do not count). */
export function needsAck(kind: AppKind, before: Manifest, after: Manifest): boolean {
  if ((before.terms?.version ?? '') !== (after.terms?.version ?? '')) return true;
  const old = new Set(rulesFromMap(manifestRules(before)).map(ruleKey));
  const next = rulesFromMap(manifestRules(after)).filter((r) => !(kind === 'konnector' && TOLERATED.has(r.type) && !old.has(ruleKey(r))));
  const nextKeys = new Set(next.map(ruleKey));
  return old.size !== nextKeys.size || [...old].some((k) => !nextKeys.has(k));
}

/**
 * The permission document's rules after an update: the new manifest's, plus the rules of the current
 * document that the old manifest did not declare (added after install), under keys the new manifest does not use.
 */
export function rulesAfterUpdate(oldManifest: RuleMap, newManifest: RuleMap, current: RuleMap): RuleMap {
  const out: RuleMap = { ...newManifest };
  for (const [key, rule] of Object.entries(current)) {
    if (Object.hasOwn(oldManifest, key) || Object.hasOwn(out, key)) continue;
    out[key] = rule;
  }
  return out;
}
