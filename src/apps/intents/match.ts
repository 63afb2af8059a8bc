/**
 * Which intent of a manifest serves a request (cozy-stack's FindIntent), and the URL the service is opened at
 * (GenerateHref): pure functions, no I/O.
 */
import { appOrigin, type SubdomainMode } from '../hosts.js';
import type { AppIntent, Manifest } from '../types.js';

/** `type` matches an intent's type: equal, or `major/*` naming the MIME major type of `type`. */
function typeMatches(declared: string, type: string): boolean {
  if (declared === type) return true;
  if (!declared.endsWith('/*')) return false;
  const slash = type.indexOf('/');
  return slash > 0 && declared.slice(0, -2) === type.slice(0, slash);
}

/** The first intent of the manifest for this action (case-insensitive) and type, or null. */
export function findIntent(manifest: Pick<Manifest, 'intents'>, action: string, type: string): AppIntent | null {
  if (!Array.isArray(manifest.intents)) return null;
  const wanted = action.toUpperCase();
  for (const intent of manifest.intents) {
    if (typeof intent?.action !== 'string' || intent.action.toUpperCase() !== wanted || !Array.isArray(intent.type)) continue;
    if (intent.type.some((t) => typeof t === 'string' && typeMatches(t, type))) return intent;
  }
  return null;
}

/**
 * Where the service of an app is opened for an intent: `<app origin><href path>?intent=<id>[#fragment]` (a query the
 * manifest's href carries is replaced, as cozy-stack does). Built as a string: an instance named by an IP address has
 * no valid app host, and its href must not make the request fail.
 */
export function serviceHref(opts: { instanceHost: string; slug: string; mode: SubdomainMode; scheme: string; href: string; intentId: string }): string {
  const hash = opts.href.indexOf('#');
  const target = hash < 0 ? opts.href : opts.href.slice(0, hash);
  const fragment = hash < 0 ? '' : opts.href.slice(hash + 1);
  const path = target.split('?')[0] ?? '';
  const encode = (s: string) => encodeURI(s).replace(/[?#]/g, encodeURIComponent);
  return `${appOrigin(opts.instanceHost, opts.slug, opts.mode, opts.scheme)}${path.startsWith('/') ? '' : '/'}${encode(path)}`
    + `?intent=${encodeURIComponent(opts.intentId)}${fragment ? `#${encode(fragment)}` : ''}`;
}
