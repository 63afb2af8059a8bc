/**
 * Realtime events that every token of an instance may receive without a rule, because what they carry is public
 * already. The one such event is the theme's: `io.cozy.settings.theme.events` carries the effective theme (colours,
 * dark colours, font) after each change, exactly what `GET /settings/theme.css` serves without a token, so that every
 * open app (Drive, Store… which hold no right on io.cozy.settings) applies a new theme without a reload. cozy-stack
 * has no such event (its theme is the context's, changed by the operator); this is Hearth's. Nothing else of
 * io.cozy.settings is opened by it: subscribing to io.cozy.settings itself, or to one of its documents, still needs
 * a GET right (Permissions). Home's wallpaper, which is the owner's own picture, is announced on io.cozy.settings
 * (settings/wallpaper-routes.ts) and heard only with a GET right on it, as Home holds.
 */
import type { PermissionSet, PermissionType } from './rules.js';

export const THEME_EVENTS_DOCTYPE = 'io.cozy.settings.theme.events';
/** The id of the theme's events (the theme resource's id in `GET /settings/theme`). */
export const THEME_EVENT_ID = 'io.cozy.settings.theme';

const OPEN_EVENTS = new Set([THEME_EVENTS_DOCTYPE]);

/** Who may: every token an app or a page of the instance holds (not a WebDAV app password, which is no realtime client). */
const HEARERS: ReadonlySet<PermissionType> = new Set<PermissionType>(['app', 'oauth', 'konnector', 'cli', 'owner', 'share', 'share-preview']);

/** The rule: a web app's token (and the other tokens of HEARERS) may subscribe to an open event doctype, without a rule of its own. */
export function mayHearOpenEvent(set: PermissionSet, doctype: string): boolean {
  return OPEN_EVENTS.has(doctype) && HEARERS.has(set.type);
}
