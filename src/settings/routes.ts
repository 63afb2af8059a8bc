/**
 * cozy-stack's settings documents (docs/settings.md), JSON-API: GET/PUT /settings/instance
 * (`io.cozy.settings.instance`, a revision checked on every write), /settings/capabilities,
 * /settings/context and /settings/flags; the instance theme (theme-routes.ts) and the avatar
 * (avatar-routes.ts). The other /settings routes live with their areas (auth, oauth, files).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { BadRequest, Conflict, Forbidden } from '../common/errors.js';
import { addJsonParser } from '../common/json-body.js';
import type { Instance, InstanceSettings, InstanceSettingsPatch } from '../instances/types.js';
import { anyToken, onDoc, SETTINGS_DOCTYPE, settingsCaller, type SettingsDeps } from './access.js';
import { registerAvatarRoutes } from './avatar-routes.js';
import { registerThemeRoutes } from './theme-routes.js';
import { checkEmail, checkLocale, checkPublicName, checkRedirection, checkTz } from './validate.js';

export type { SettingsDeps };

export const JSONAPI = 'application/vnd.api+json';
const INSTANCE_ID = 'io.cozy.settings.instance';

async function instanceResource(deps: SettingsDeps, instance: Instance, settings: InstanceSettings) {
  const { authMode } = await deps.twoFactor.twoFactor(instance);
  const attributes = {
    locale: instance.locale, email: instance.email, public_name: instance.publicName, tz: instance.tz,
    default_redirection: settings.defaultRedirection ?? deps.config.settings.defaultRedirection,
    password_defined: instance.onboarded, onboarding_finished: instance.onboarded, auth_mode: authMode, auto_update: true, context: 'default',
  };
  return { type: SETTINGS_DOCTYPE, id: INSTANCE_ID, attributes, meta: { rev: settings.rev }, links: { self: '/settings/instance' } };
}

/** The JSON-API body of a PUT: its revision and the validated changes. */
function parseInstancePut(body: unknown): { rev: string; a: Record<string, unknown> } {
  const data = (body as { data?: Record<string, unknown> } | undefined)?.data;
  if (typeof data !== 'object' || data === null || typeof data.attributes !== 'object' || data.attributes === null || Array.isArray(data.attributes)) {
    throw new BadRequest(`send a JSON-API document: {"data":{"type":"${SETTINGS_DOCTYPE}","id":"${INSTANCE_ID}","meta":{"rev":"…"},"attributes":{…}}}`);
  }
  if ((data.type !== undefined && data.type !== SETTINGS_DOCTYPE) || (data.id !== undefined && data.id !== INSTANCE_ID)) {
    throw new BadRequest(`this route updates the document ${SETTINGS_DOCTYPE}/${INSTANCE_ID} only`);
  }
  const rev = (data.meta as Record<string, unknown> | undefined)?.rev;
  if (typeof rev !== 'string' || rev === '') throw new Conflict('send the revision you read: data.meta.rev from GET /settings/instance');
  return { rev, a: data.attributes as Record<string, unknown> };
}

function patchOf(a: Record<string, unknown>): InstanceSettingsPatch {
  const patch: InstanceSettingsPatch = {};
  for (const key of Object.keys(a)) {
    switch (key) {
      case 'locale': patch.locale = checkLocale(a.locale); break;
      case 'email': patch.email = checkEmail(a.email); break;
      case 'public_name': patch.publicName = checkPublicName(a.public_name); break;
      case 'tz': case 'timezone': patch.tz = checkTz(a[key]); break;
      case 'default_redirection': patch.defaultRedirection = checkRedirection(a.default_redirection); break;
      // What a client sends back from a GET (password_defined, auth_mode, context…) has its own routes or is not the owner's to
      // set; other attributes are not stored by Hearth (README, Settings).
      default: break;
    }
  }
  return patch;
}

function flagsOf(raw: string): Record<string, unknown> {
  let flags: unknown;
  try {
    flags = JSON.parse(raw);
  } catch {
    flags = null;
  }
  if (typeof flags !== 'object' || flags === null || Array.isArray(flags)) throw new Error('settings.flags must be a JSON object, e.g. {"has_feature1":true}');
  return flags as Record<string, unknown>;
}

export function registerSettingsRoutes(app: FastifyInstance, deps: SettingsDeps): void {
  const flags = flagsOf(deps.config.settings.flags);
  void app.register(async (scope) => {
    addJsonParser(scope, JSONAPI, { bodyLimit: 64 * 1024 });

    scope.get('/settings/instance', async (req, reply) => {
      // cozy-stack lets any token read it; Hearth: a right on the document, or a web app (its token needs the owner's session).
      const c = await settingsCaller(deps, req, (set) => set.type === 'app' || onDoc('GET', INSTANCE_ID)(set), `read ${INSTANCE_ID}`);
      const { instance, settings } = await deps.store.settings(c.instance);
      return reply.header('Cache-Control', 'no-store').type(JSONAPI).send({ data: await instanceResource(deps, instance, settings) });
    });

    scope.put('/settings/instance', { bodyLimit: 64 * 1024 }, async (req: FastifyRequest, reply) => {
      const c = await settingsCaller(deps, req, onDoc('PUT', INSTANCE_ID), `change ${INSTANCE_ID}`);
      const { rev, a } = parseInstancePut(req.body);
      const patch = patchOf(a);
      const { instance: current } = await deps.store.settings(c.instance);
      if (patch.email !== undefined && patch.email !== current.email) {
        // cozy-stack: the address that receives passphrase resets and 2FA codes is not changed by a generic update.
        if (c.set.type !== 'cli') throw new Forbidden('the email receives passphrase resets and login codes: change it with `hearth instances modify <domain> --email <address>` (or a CLI token)');
      } else delete patch.email;
      const { instance, settings } = await deps.store.updateSettings(c.instance, rev, patch);
      const data = await instanceResource(deps, instance, settings);
      deps.bus.publish({ domain: instance.domain, doctype: SETTINGS_DOCTYPE, id: INSTANCE_ID, verb: 'UPDATED', doc: { _id: INSTANCE_ID, _rev: settings.rev, ...data.attributes } });
      return reply.header('Cache-Control', 'no-store').type(JSONAPI).send({ data });
    });

    scope.get('/settings/capabilities', async (req, reply) => {
      await settingsCaller(deps, req, anyToken, 'read the capabilities');
      const attributes = {
        file_versioning: deps.config.files.versions.max > 1,
        flat_subdomains: false, // apps are served at <slug>.<instance host>
        can_auth_with_password: true, can_auth_with_magic_links: false, can_auth_with_oidc: false,
      };
      return reply.type(JSONAPI).send({ data: { type: SETTINGS_DOCTYPE, id: 'io.cozy.settings.capabilities', attributes, links: { self: '/settings/capabilities' } } });
    });

    scope.get('/settings/context', async (req, reply) => {
      const c = await settingsCaller(deps, req, anyToken, 'read the context');
      const { settings } = await deps.store.settings(c.instance);
      const s = deps.config.settings;
      const attributes: Record<string, unknown> = {
        default_redirection: settings.defaultRedirection ?? s.defaultRedirection, onboarded_redirection: s.onboardedRedirection,
        ...(s.helpLink ? { help_link: s.helpLink } : {}),
      };
      return reply.type(JSONAPI).send({ data: { type: SETTINGS_DOCTYPE, id: 'io.cozy.settings.context', attributes, links: { self: '/settings/context' } } });
    });

    scope.get<{ Querystring: { include?: string } }>('/settings/flags', async (req, reply) => {
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
  });
  registerAvatarRoutes(app, deps);
}
