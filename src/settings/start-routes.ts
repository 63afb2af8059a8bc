/**
 * The small /settings routes the official apps call when they start, as cozy-stack answers them
 * (web/settings): `/settings/onboarded`, `/settings/warnings`, `GET`/`PUT /settings/hint` and
 * `/settings/external-ties`. The passphrase hint lives where cozy-stack keeps it, in the document
 * `io.cozy.settings/io.cozy.settings.bitwarden` (cozy-client's SettingsCollection reads it there).
 */
import type { FastifyInstance } from 'fastify';
import { Forbidden, NotFound, UnprocessableEntity } from '../common/errors.js';
import { instanceOf } from '../data/http/context.js';
import type { Doc, DocStore } from '../data/store.js';
import { derivePassphrase } from '../auth/passphrase.js';
import { currentSession } from '../auth/session-http.js';
import { extractToken } from '../permissions/resolve.js';
import { Permissions, type PermissionSet, type Verb } from '../permissions/rules.js';
import type { Instance } from '../instances/types.js';
import { enforceLimit, type RateLimiter } from '../limits/index.js';
import { anyToken, SETTINGS_DOCTYPE, settingsCaller, type SettingsDeps } from './access.js';
import { appRedirection } from './redirections.js';
import * as S from './start-schemas.js';
import { listWarnings } from './warnings.js';

export interface StartSettingsDeps extends SettingsDeps {
  storeOf(instance: Instance): DocStore;
  /** Bounds PUT /settings/hint, which tells whether a hint is the passphrase. */
  limiter: RateLimiter;
}

const BITWARDEN_ID = 'io.cozy.settings.bitwarden';
const JSONAPI = 'application/vnd.api+json';

const wholeSettings = (verb: Verb) => (set: PermissionSet): boolean => Permissions.allowsWholeType(set, verb, SETTINGS_DOCTYPE);

async function bitwardenSettings(store: DocStore): Promise<Doc | null> {
  try {
    return await store.get(SETTINGS_DOCTYPE, BITWARDEN_ID);
  } catch (err) {
    if (err instanceof NotFound) return null;
    throw err;
  }
}

export function registerStartSettingsRoutes(app: FastifyInstance, deps: StartSettingsDeps): void {
  app.get('/settings/onboarded', { schema: S.onboarded }, async (req, reply) => {
    const instance = instanceOf(req);
    // An owner with a session has set the passphrase: the onboarding is over, there is nothing left to record.
    if (!(await currentSession(deps, instance, req))) return reply.code(303).header('Location', `${req.protocol}://${instance.domain}/auth/login`).send();
    return reply.code(303).header('Location', appRedirection(deps.config, instance, deps.config.settings.onboardedRedirection, req.protocol)).send();
  });

  app.get('/settings/warnings', { schema: S.warnings }, async (req, reply) => {
    const c = await settingsCaller(deps, req, anyToken, 'read the warnings');
    const warnings = listWarnings(c.instance, deps.config.settings.tosLink);
    // as cozy-stack: no warning is a 404 with an empty list; else the list, with the first one's status
    if (warnings.length === 0) return reply.code(404).type(JSONAPI).send('{"errors": []}');
    return reply.code(Number(warnings[0]!.status)).type(JSONAPI).send(JSON.stringify({ errors: warnings }));
  });

  app.get('/settings/hint', { schema: S.getHint }, async (req, reply) => {
    const c = await settingsCaller(deps, req, wholeSettings('GET'), 'read the passphrase hint');
    const doc = await bitwardenSettings(deps.storeOf(c.instance));
    if (typeof doc?.passphrase_hint !== 'string' || doc.passphrase_hint === '') throw new NotFound('No hint');
    return reply.code(204).send();
  });

  app.put<{ Body: { hint: string } }>('/settings/hint', { bodyLimit: 16 * 1024, schema: S.putHint }, async (req, reply) => {
    const c = await settingsCaller(deps, req, wholeSettings('PUT'), 'change the passphrase hint');
    const { hint } = req.body;
    await enforceLimit(deps.limiter, 'hintChange', c.instance.id);
    const derived = await derivePassphrase(hint, c.instance.domain, c.instance.kdfIterations);
    if (await deps.registry.checkPassphrase(c.instance, derived)) throw new UnprocessableEntity('the hint cannot be the passphrase itself', 'invalid_parameter');
    const store = deps.storeOf(c.instance);
    const doc = (await bitwardenSettings(store)) ?? { _id: BITWARDEN_ID };
    await store.put(SETTINGS_DOCTYPE, { ...doc, passphrase_hint: hint });
    return reply.code(204).send();
  });

  app.get('/settings/external-ties', { schema: S.externalTies }, async (req, reply) => {
    const instance = instanceOf(req);
    // cozy-stack: the owner's session, or a web app's token (bound to that session)
    const allowed = extractToken(req) ? (await deps.perms.forRequest(instance, req)).type === 'app' : (await currentSession(deps, instance, req)) !== null;
    if (!allowed) throw new Forbidden('the external ties are for the owner: log in, or call from a web app with its token');
    const data = { type: SETTINGS_DOCTYPE, id: 'io.cozy.settings.external-ties', attributes: { has_blocking_subscription: false }, meta: {}, links: { self: '/settings/external-ties' } };
    return reply.type(JSONAPI).send({ data });
  });
}
