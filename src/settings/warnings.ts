/**
 * The warnings the owner must act on (cozy-stack's middlewares.ListWarnings): served by GET /settings/warnings and put in
 * app pages as `{{.Warnings}}` (`<meta name="user-action-required">`, which the cozy-bar reads). The one Hearth can have:
 * the latest terms of service, not signed, apply within 30 days or already (instances/context.ts). cozy-stack's other
 * one, "moved", never reaches a page or a route here: a moved instance answers 410 to everything (move/transfer/moved.ts).
 */
import { langOf } from '../auth/login-page.js';
import { tosDeadline } from '../instances/context.js';
import type { Instance } from '../instances/types.js';

export interface Warning {
  status: string;
  title: string;
  code: string;
  detail: string;
  /** Where the owner acts on it (the terms to read and sign). */
  links?: { self: string };
}

const TOS_DETAIL = { en: 'Terms of services have been updated', fr: 'Les conditions générales d\'utilisation ont été mises à jour' };

/**
 * The terms page of `settings.tosLink` for this instance (`{domain}` replaced by its domain), or null: cozy-stack links the
 * warning to its manager's terms page of the instance (ManagerURL(ManagerTOSURL)); Hearth has no manager, the link is configured.
 */
export function tosLinkOf(tosLink: string | null, instance: Pick<Instance, 'domain'>): string | null {
  return tosLink ? tosLink.replaceAll('{domain}', encodeURIComponent(instance.domain)) : null;
}

/** `tosLink`: `settings.tosLink` of the configuration (the warning's `links.self`), or null (no link, as cozy-stack without a manager). */
export function listWarnings(instance: Instance, tosLink: string | null, now = Date.now()): Warning[] {
  const warnings: Warning[] = [];
  if (tosDeadline(instance, now) !== 'none') {
    const self = tosLinkOf(tosLink, instance);
    warnings.push({ status: '402', title: 'TOS Updated', code: 'tos-updated', detail: TOS_DETAIL[langOf(instance.locale)], ...(self ? { links: { self } } : {}) });
  }
  return warnings;
}

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&#34;', "'": '&#39;' };
const attr = (s: string) => s.replace(/[&<>"']/g, (c) => ESC[c] as string);

/** `{{.Warnings}}`: one meta per warning for a logged-in owner, nothing otherwise (cozy-stack's warnings template, `data-links` its link). */
export function warningsHtml(warnings: Warning[], loggedIn: boolean): string {
  if (!loggedIn) return '';
  return warnings.map((w) => `\n<meta name="user-action-required" data-title="${attr(w.title)}" data-code="${attr(w.code)}" data-detail="${attr(w.detail)}" ${w.links ? `data-links="${attr(w.links.self)}" ` : ''}/>`).join('');
}
