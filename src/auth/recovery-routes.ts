/**
 * The recovery codes of two-factor authentication with an authenticator app (Hearth's own routes; cozy-stack has none):
 * `GET /settings/twofactor/recovery_codes` says how many are left, `POST` replaces them all with new ones, shown once,
 * after the passphrase. Both need the owner (the session, or a token with the verb on the whole io.cozy.settings).
 */
import type { FastifyInstance } from 'fastify';
import { Conflict } from '../common/errors.js';
import { requireOwner } from './owner.js';
import type { AuthDeps } from './routes.js';
import { recoveryCodesLeft, renewRecoveryCodes } from './schemas.js';
import { recordEvent } from './session-http.js';
import { checkOwnerPassphrase } from './twofactor-routes.js';
import { newRecoveryCodes } from './twofactor/recovery.js';

const PATH = '/settings/twofactor/recovery_codes';

export function registerRecoveryCodeRoutes(app: FastifyInstance, deps: AuthDeps): void {
  app.get(PATH, { schema: recoveryCodesLeft }, async (req, reply) => {
    const { instance } = await requireOwner(deps, req, 'GET');
    const state = await deps.twoFactor.twoFactor(instance);
    return reply.header('Cache-Control', 'no-store').send({ auth_mode: state.authMode, recovery_codes_left: state.authMode === 'two_factor_totp' ? state.recoveryHashes.length : 0 });
  });

  app.post(PATH, { bodyLimit: 16 * 1024, schema: renewRecoveryCodes }, async (req, reply) => {
    const { instance } = await requireOwner(deps, req, 'POST');
    const state = await deps.twoFactor.twoFactor(instance);
    if (state.authMode !== 'two_factor_totp') throw new Conflict('recovery codes go with an authenticator app: set one up first (POST /settings/twofactor/totp)');
    await checkOwnerPassphrase(deps, instance, req.ip, ((req.body ?? {}) as Record<string, unknown>).passphrase);
    const { codes, hashes } = await newRecoveryCodes();
    await deps.twoFactor.setTwoFactor(instance, { recoveryHashes: hashes });
    await recordEvent(deps, req, instance, 'recovery_codes_renewed');
    return reply.header('Cache-Control', 'no-store').send({ recovery_codes: codes });
  });
}
