/**
 * App hosts (cozy-stack's SplitCozyHost and SubDomain): each web app is its own origin, nested
 * (`drive.alice.example.org`) or flat (`alice-drive.example.org`), chosen by `apps.subdomains`.
 */
import { SLUG_RE } from './types.js';

export type SubdomainMode = 'nested' | 'flat';

/** A Host header (lowercase, maybe with a :port) read as an app host: the instance's host and the slug, or null. */
export function splitAppHost(host: string, mode: SubdomainMode): { instanceHost: string; slug: string } | null {
  const dot = host.indexOf('.');
  if (dot <= 0) return null;
  const first = host.slice(0, dot);
  const rest = host.slice(dot + 1);
  if (!rest) return null;
  if (mode === 'nested') return SLUG_RE.test(first) ? { instanceHost: rest, slug: first } : null;
  const dash = first.indexOf('-');
  if (dash <= 0 || dash === first.length - 1) return null;
  const slug = first.slice(dash + 1);
  return SLUG_RE.test(slug) ? { instanceHost: `${first.slice(0, dash)}.${rest}`, slug } : null;
}

/** The origin of an app of an instance (`scheme` is `http` or `https`), with no trailing slash. */
export function appOrigin(instanceHost: string, slug: string, mode: SubdomainMode, scheme: string): string {
  if (mode === 'nested') return `${scheme}://${slug}.${instanceHost}`;
  const dot = instanceHost.indexOf('.');
  return dot < 0 ? `${scheme}://${instanceHost}-${slug}` : `${scheme}://${instanceHost.slice(0, dot)}-${slug}.${instanceHost.slice(dot + 1)}`;
}

/** The parent every app host of the instance shares, with the port (`*.<it>` names them): nested = the instance, flat = its parent. */
export function appsParent(instanceHost: string, mode: SubdomainMode): string {
  const dot = instanceHost.indexOf('.');
  return mode === 'flat' && dot > 0 ? instanceHost.slice(dot + 1) : instanceHost;
}

/** The parent domain every app host of the instance shares (the session cookie's Domain): nested = the instance, flat = its parent. */
export function cookieDomain(instanceHost: string, mode: SubdomainMode): string {
  const host = instanceHost.replace(/:\d+$/, '');
  if (mode === 'nested') return host;
  const dot = host.indexOf('.');
  return dot < 0 ? host : host.slice(dot + 1);
}
