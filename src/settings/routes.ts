/**
 * cozy-stack's settings documents (docs/settings.md), JSON-API: GET/PUT /settings/instance
 * (`io.cozy.settings.instance`, a revision checked on every write), /settings/capabilities,
 * /settings/context and /settings/flags; the instance theme (theme-routes.ts) and the avatar
 * (avatar-routes.ts). The other /settings routes live with their areas (auth, oauth, files).
 */
import type { FastifyInstance } from 'fastify';
import { Conflict, Forbidden } from '../common/errors.js';
import { extractToken } from '../permissions/resolve.js';
import { recordEvent } from '../auth/session-http.js';
import { maskEmail } from '../auth/security-events.js';
import { addJsonParser } from '../common/json-body.js';
import type { HearthConfig } from '../config/types.js';
import type { InstanceSettingsPatch } from '../instances/types.js';
import { anyToken, onDoc, SETTINGS_DOCTYPE, settingsCaller, type SettingsDeps } from './access.js';
import { registerAvatarRoutes } from './avatar-routes.js';
import { registerWallpaperRoutes } from './wallpaper-routes.js';
import { registerStartSettingsRoutes, type StartSettingsDeps } from './start-routes.js';
import { registerThemeRoutes } from './theme-routes.js';
import * as schemas from './schemas.js';
import { announceInstance, INSTANCE_ID, instanceResource, JSONAPI } from './instance-resource.js';
import { registerEmailRoutes, type EmailDeps } from './email-routes.js';
import { canonicalTz, emptyIsNull, normalizeLocale, trimmedName } from './validate.js';
import { flagsOf } from './flags.js';

export type { SettingsDeps };
export { JSONAPI };

/** The body of a PUT, as its schema (schemas.ts) accepted it. */
interface InstancePut {
  data: {
    meta?: { rev?: unknown };
    attributes: { locale?: string; email?: string | null; public_name?: string | null; tz?: string | null; timezone?: string | null; default_redirection?: string | null; tracking?: string | boolean };
  };
}

/** The revision the client read: a missing one is a conflict (409), as a stale one. */
function revOf(body: InstancePut): string {
  const rev = body.data.meta?.rev;
  if (typeof rev !== 'string' || rev === '') throw new Conflict('send the revision you read: data.meta.rev from GET /settings/instance');
  return rev;
}

/**
 * The changes, normalised (the schema checked each value). What a client sends back from a GET (password_defined,
 * auth_mode, context…) has its own routes or is not the owner's to set; other attributes are not stored by Hearth.
 */
function patchOf(a: InstancePut['data']['attributes']): InstanceSettingsPatch {
  const patch: InstanceSettingsPatch = {};
  if (a.locale !== undefined) patch.locale = normalizeLocale(a.locale);
  if (a.email !== undefined) patch.email = emptyIsNull(a.email);
  if (a.public_name !== undefined) patch.publicName = trimmedName(a.public_name);
  const tz = a.tz !== undefined ? a.tz : a.timezone;
  if (tz !== undefined) patch.tz = canonicalTz(tz);
  if (a.default_redirection !== undefined) patch.defaultRedirection = emptyIsNull(a.default_redirection);
  if (a.tracking !== undefined) patch.tracking = a.tracking === true || a.tracking === 'true';
  return patch;
}

/** `/settings/capabilities` (also `{{.Capabilities}}` in app pages): `flat_subdomains` says where apps are served. */
export function capabilitiesOf(config: HearthConfig) {
  return {
    file_versioning: config.files.versions.max > 1,
    flat_subdomains: config.apps.subdomains === 'flat', // apps at <first>-<slug>.<rest>, else <slug>.<instance host>
    can_auth_with_password: true, can_auth_with_magic_links: false, can_auth_with_oidc: false,
  };
}

export function registerSettingsRoutes(app: FastifyInstance, deps: StartSettingsDeps & EmailDeps): void {
  const flags = flagsOf(deps.config.settings.flags);
  void app.register(async (scope) => {
    addJsonParser(scope, JSONAPI, { bodyLimit: 64 * 1024 });

    scope.get('/settings/instance', { schema: schemas.getInstance }, async (req, reply) => {
      // cozy-stack lets any token read it; Hearth: a right on the document, or a web app (its token needs the owner's session).
      const c = await settingsCaller(deps, req, (set) => set.type === 'app' || onDoc('GET', INSTANCE_ID)(set), `read ${INSTANCE_ID}`);
      const { instance, settings } = await deps.store.settings(c.instance);
      return reply.header('Cache-Control', 'no-store').type(JSONAPI).send({ data: await instanceResource(deps, instance, settings) });
    });

    scope.put<{ Body: InstancePut }>('/settings/instance', { bodyLimit: 64 * 1024, schema: schemas.putInstance }, async (req, reply) => {
      const c = await settingsCaller(deps, req, onDoc('PUT', INSTANCE_ID), `change ${INSTANCE_ID}`);
      const rev = revOf(req.body);
      const patch = patchOf(req.body.data.attributes);
      const { instance: current } = await deps.store.settings(c.instance);
      if (patch.email !== undefined && patch.email !== current.email) {
        // cozy-stack: the address that receives passphrase resets and 2FA codes is not changed by a generic update.
        if (c.set.type !== 'cli') throw new Forbidden('the email receives passphrase resets and login codes: change it with POST /settings/email (the passphrase, then a link mailed to the new address)');
      } else delete patch.email;
      const { instance, settings } = await deps.store.updateSettings(c.instance, rev, patch);
      if (patch.email !== undefined) await recordEvent(deps, req, instance, 'email_changed', { from: maskEmail(current.email), to: maskEmail(instance.email) });
      const data = await instanceResource(deps, instance, settings);
      announceInstance(deps.bus, instance, data);
      return reply.header('Cache-Control', 'no-store').type(JSONAPI).send({ data });
    });

    scope.put('/settings/instance/sign_tos', { schema: schemas.signTos }, async (req, reply) => {
      // cozy-stack: an OAuth client (the flagship or a device app shows the new terms) or the CLI signs the latest terms
      const c = await settingsCaller(deps, req, (set) => set.type === 'oauth' || set.type === 'cli', 'sign the terms of service');
      if (!extractToken(req)) throw new Forbidden('sign the terms with an OAuth client\'s or a CLI token');
      const { instance } = await deps.store.settings(c.instance);
      if (instance.tosLatest && instance.tosSigned !== instance.tosLatest) await deps.registry.modify(instance.domain, { tosSigned: instance.tosLatest });
      return reply.code(204).send();
    });

    scope.get('/settings/capabilities', { schema: schemas.capabilities }, async (req, reply) => {
      await settingsCaller(deps, req, anyToken, 'read the capabilities');
      const attributes = capabilitiesOf(deps.config);
      return reply.type(JSONAPI).send({ data: { type: SETTINGS_DOCTYPE, id: 'io.cozy.settings.capabilities', attributes, links: { self: '/settings/capabilities' } } });
    });

    scope.get('/settings/context', { schema: schemas.context }, async (req, reply) => {
      const c = await settingsCaller(deps, req, anyToken, 'read the context');
      const { settings } = await deps.store.settings(c.instance);
      const s = deps.config.settings;
      const attributes: Record<string, unknown> = {
        default_redirection: settings.defaultRedirection ?? s.defaultRedirection, onboarded_redirection: s.onboardedRedirection,
        ...(s.helpLink ? { help_link: s.helpLink } : {}),
      };
      return reply.type(JSONAPI).send({ data: { type: SETTINGS_DOCTYPE, id: 'io.cozy.settings.context', attributes, links: { self: '/settings/context' } } });
    });

    scope.get<{ Querystring: { include?: string } }>('/settings/flags', { schema: schemas.flags }, async (req, reply) => {
      await settingsCaller(deps, req, anyToken, 'read the feature flags');
      const data = { type: SETTINGS_DOCTYPE, id: 'io.cozy.settings.flags', attributes: flags, links: { self: '/settings/flags' } };
      if (!req.query.include) return reply.type(JSONAPI).send({ data });
      // The sources, by decreasing priority, as cozy-stack lists them; Hearth's only source is its configuration.
      const included = ['instance', 'manager', 'config', 'context', 'default'].map((source) => ({
        type: SETTINGS_DOCTYPE, id: `io.cozy.settings.flags.${source}`, attributes: source === 'config' ? flags : {},
      }));
      return reply.type(JSONAPI).send({ data, included });
    });

    registerThemeRoutes(scope, deps);
    registerStartSettingsRoutes(scope, deps);
    registerEmailRoutes(scope, deps);
  });
  registerAvatarRoutes(app, deps);
  registerWallpaperRoutes(app, deps);
}
