/**
 * `/.well-known/change-password` (W3C "A Well-Known URL for Changing Passwords"): password managers
 * send the owner there. As cozy-stack (web/wellknown): a 302 to the settings app's passphrase page,
 * `<settings app>/#/profile/password`, whoever asks (HEAD too).
 */
import type { FastifyInstance } from 'fastify';
import { noContent, type RouteSchema } from '../common/schemas.js';
import type { HearthConfig } from '../config/types.js';
import { instanceOf } from '../data/http/context.js';
import { appOrigin } from '../apps/hosts.js';

const changePassword: RouteSchema = {
  summary: 'Where to change the passphrase: redirects to the settings app\'s passphrase page', tags: ['auth'],
  response: { 302: noContent('To <settings app>/#/profile/password (Location)') },
};

export function registerWellKnownRoutes(app: FastifyInstance, deps: { config: HearthConfig }): void {
  app.get('/.well-known/change-password', { schema: changePassword }, async (req, reply) => {
    const instance = instanceOf(req);
    const settings = appOrigin(instance.domain, 'settings', deps.config.apps.subdomains, req.protocol);
    return reply.code(302).header('Location', `${settings}/#/profile/password`).send();
  });
}
