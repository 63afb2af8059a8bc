/**
 * The instance theme: `GET /settings/theme.css` (no token: apps import it with a <link>, which sends
 * no Authorization header, and public pages such as share links and the login page need it too; it
 * holds nothing private, as cozy-stack's theme.css asset), `GET /settings/theme` (the effective
 * values and the defaults), `PUT /settings/theme` and `DELETE /settings/theme` (the owner, or a
 * token with PUT on io.cozy.settings, as the avatar). Each change is announced to every open app as an
 * `io.cozy.settings.theme.events` realtime event (permissions/open-events.ts).
 */
import type { FastifyInstance } from 'fastify';
import * as schemas from './schemas.js';
import { instanceOf } from '../data/http/context.js';
import { requireOwner } from '../auth/owner.js';
import { SETTINGS_DOCTYPE, settingsCaller, anyToken, type SettingsDeps } from './access.js';
import { checkTheme, DEFAULT_THEME, effectiveTheme, themeCss, type Theme } from './theme.js';
import { THEME_EVENTS_DOCTYPE, THEME_EVENT_ID } from '../permissions/open-events.js';
import type { Instance } from '../instances/types.js';

const JSONAPI = 'application/vnd.api+json';

function resource(theme: Theme) {
  return { type: SETTINGS_DOCTYPE, id: 'io.cozy.settings.theme', attributes: theme, meta: { defaults: DEFAULT_THEME }, links: { self: '/settings/theme', css: '/settings/theme.css' } };
}

/** JSON-API, or the attributes alone (the schema accepted one of them). */
type ThemeBody = { data: { attributes: Record<string, unknown> } } | Record<string, unknown>;
const attributesOf = (body: ThemeBody): Record<string, unknown> => ('data' in body ? (body.data as { attributes: Record<string, unknown> }).attributes : body);

/** Tells every open app of the instance the new theme (only the theme: what theme.css serves to anyone). */
function announce(deps: SettingsDeps, instance: Instance, theme: Theme): void {
  deps.bus.publish({ domain: instance.domain, doctype: THEME_EVENTS_DOCTYPE, id: THEME_EVENT_ID, verb: 'UPDATED', doc: { _id: THEME_EVENT_ID, ...theme } });
}

export function registerThemeRoutes(app: FastifyInstance, deps: SettingsDeps): void {
  app.get('/settings/theme.css', { schema: schemas.themeCss }, async (req, reply) => {
    const { settings } = await deps.store.settings(instanceOf(req));
    const { css, etag } = themeCss(effectiveTheme(settings.theme));
    void reply.header('ETag', etag).header('Cache-Control', 'public, no-cache');
    if (String(req.headers['if-none-match'] ?? '').split(',').map((s) => s.trim()).includes(etag)) return reply.code(304).send();
    return reply.type('text/css; charset=utf-8').send(css);
  });

  app.get('/settings/theme', { schema: schemas.getTheme }, async (req, reply) => {
    const c = await settingsCaller(deps, req, anyToken, 'read the theme');
    const { settings } = await deps.store.settings(c.instance);
    return reply.type(JSONAPI).send({ data: resource(effectiveTheme(settings.theme)) });
  });

  app.put<{ Body: ThemeBody }>('/settings/theme', { bodyLimit: 16 * 1024, schema: schemas.putTheme }, async (req, reply) => {
    const { instance } = await requireOwner(deps, req, 'PUT');
    const overrides = checkTheme(attributesOf(req.body)); // normalised (the schema checked the grammar; stored values are checked again when read)
    await deps.store.setTheme(instance, Object.keys(overrides).length ? JSON.stringify(overrides) : null);
    const theme = effectiveTheme(JSON.stringify(overrides));
    announce(deps, instance, theme);
    return reply.type(JSONAPI).send({ data: resource(theme) });
  });

  app.delete('/settings/theme', { schema: schemas.deleteTheme }, async (req, reply) => {
    const { instance } = await requireOwner(deps, req, 'PUT');
    await deps.store.setTheme(instance, null);
    announce(deps, instance, effectiveTheme(null));
    return reply.code(204).send();
  });
}
