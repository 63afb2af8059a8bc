/**
 * The change of the owner's e-mail address, as cozy-stack's (docs/settings.md "Email update", web/settings and
 * model/settings): `POST /settings/email` {passphrase, email} checks the (derived) passphrase, keeps the address as
 * pending and mails a confirmation link to it; `POST /settings/email/resend` mails a new link; `DELETE /settings/email`
 * forgets the pending address; `GET /settings/email/confirm?token=` (the link, opened logged in) makes it the instance's
 * email and redirects to Settings, or shows an error page. The routes but the link need POST on the whole
 * io.cozy.settings doctype (the Settings app) or the owner's session from the instance's pages. Each step is one of the
 * owner's security events (asked, mailed again, given up, changed), with the old and new addresses masked.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { randomBytes } from 'node:crypto';
import { BadRequest } from '../common/errors.js';
import { instanceOf } from '../data/http/context.js';
import { appOrigin } from '../apps/hosts.js';
import { requireOwner } from '../auth/owner.js';
import { htmlReply, requestHost } from '../auth/http.js';
import { langOf, type Lang } from '../auth/login-page.js';
import { renderMessagePage } from '../auth/passphrase-page.js';
import { currentSession, recordEvent } from '../auth/session-http.js';
import { maskEmail } from '../auth/security-events.js';
import type { Mailer } from '../mail/mailer.js';
import type { Instance } from '../instances/types.js';
import { enforceLimit, type RateLimiter } from '../limits/index.js';
import type { SettingsDeps } from './access.js';
import { announceInstance, instanceResource, type InstanceDocDeps } from './instance-resource.js';
import * as S from './email-schemas.js';

export interface EmailDeps extends SettingsDeps, InstanceDocDeps {
  mailer: Mailer;
  limiter: RateLimiter;
}

/** cozy-stack's settings.TokenExpiration. */
export const EMAIL_TOKEN_TTL_MS = 7 * 24 * 3600 * 1000;

const TEXTS: Record<Lang, { subject: string; text: string; badTitle: string; bad: string; back: string }> = {
  en: {
    subject: 'Confirm your email address',
    text: 'Hello {name},\n\nYou asked to change the email address of your Hearth {domain}.\nOpen this link to confirm the new address (it works for 7 days):\n{link}\n\nIf you did not ask for it, ignore this mail: the address stays as it was.\n',
    badTitle: 'Invalid link', bad: 'Your link is either expired or invalid: ask for a new one in Settings, Profile.', back: 'Go back to the settings',
  },
  fr: {
    subject: 'Confirmez votre adresse e-mail',
    text: 'Bonjour {name},\n\nVous avez demandé à changer l’adresse e-mail de votre Hearth {domain}.\nOuvrez ce lien pour confirmer la nouvelle adresse (il reste valable 7 jours) :\n{link}\n\nSi ce n’est pas vous, ignorez ce message : l’adresse ne change pas.\n',
    badTitle: 'Lien invalide', bad: 'Votre lien a expiré ou n’est pas valide : demandez-en un nouveau dans Paramètres, Profil.', back: 'Retour aux paramètres',
  },
};

const fill = (s: string, vars: Record<string, string>): string => s.replace(/\{(\w+)\}/g, (_, k: string) => vars[k] ?? '');
const nameOf = (i: Instance): string => i.publicName ?? i.domain;

/** Mails the confirmation link of `token` to the pending address `to`. */
async function sendConfirmation(deps: EmailDeps, req: FastifyRequest, instance: Instance, to: string, token: string): Promise<void> {
  const t = TEXTS[langOf(instance.locale)];
  const link = `${req.protocol}://${requestHost(req)}/settings/email/confirm?token=${token}`;
  await deps.mailer.send({
    to: [{ email: to }], domain: instance.domain, instanceId: instance.id,
    subject: t.subject, text: fill(t.text, { name: nameOf(instance), domain: instance.domain, link }),
  });
}

function badLink(req: FastifyRequest, reply: FastifyReply, instance: Instance, settings: string): FastifyReply {
  const lang = langOf(instance.locale);
  const t = TEXTS[lang];
  const nonce = randomBytes(16).toString('base64');
  return htmlReply(req, reply, 400, nonce, renderMessagePage({ lang, name: nameOf(instance), nonce, title: t.badTitle, text: t.bad, link: { href: settings, label: t.back } }));
}

export function registerEmailRoutes(app: FastifyInstance, deps: EmailDeps): void {
  app.post<{ Body: { passphrase: string; email: string } }>('/settings/email', { bodyLimit: 16 * 1024, schema: S.startEmail }, async (req, reply) => {
    const { instance } = await requireOwner(deps, req, 'POST');
    await enforceLimit(deps.limiter, 'emailUpdate', instance.id);
    if (!(await deps.registry.checkPassphrase(instance, req.body.passphrase))) throw new BadRequest('Invalid passphrase', 'invalid_passphrase');
    const token = await deps.emailChanges.start(instance, req.body.email, Date.now() + EMAIL_TOKEN_TTL_MS);
    // recorded before the mail goes: the change is asked for (and pending) even if mailing the link fails
    await recordEvent(deps, req, instance, 'email_change_requested', { from: maskEmail(instance.email), to: maskEmail(req.body.email) });
    await sendConfirmation(deps, req, instance, req.body.email, token);
    return reply.code(204).send();
  });

  app.post('/settings/email/resend', { schema: S.resendEmail }, async (req, reply) => {
    const { instance } = await requireOwner(deps, req, 'POST');
    await enforceLimit(deps.limiter, 'emailUpdate', instance.id);
    const pending = await deps.emailChanges.pending(instance);
    const token = pending === null ? null : await deps.emailChanges.renew(instance, Date.now() + EMAIL_TOKEN_TTL_MS);
    if (pending === null || token === null) throw new BadRequest('no pending email', 'no_pending_email');
    await recordEvent(deps, req, instance, 'email_change_resent', { to: maskEmail(pending) });
    await sendConfirmation(deps, req, instance, pending, token);
    return reply.code(204).send();
  });

  app.delete('/settings/email', { schema: S.cancelEmail }, async (req, reply) => {
    const { instance } = await requireOwner(deps, req, 'POST');
    const pending = await deps.emailChanges.pending(instance);
    await deps.emailChanges.cancel(instance); // none pending: nothing to do, as cozy-stack
    if (pending !== null) await recordEvent(deps, req, instance, 'email_change_cancelled', { to: maskEmail(pending) });
    return reply.code(204).send();
  });

  app.get<{ Querystring: { token?: string } }>('/settings/email/confirm', { schema: S.confirmEmail }, async (req, reply) => {
    const instance = instanceOf(req);
    const here = `${req.protocol}://${requestHost(req)}`;
    if (!(await currentSession(deps, instance, req))) {
      return reply.redirect(`${here}/auth/login?redirect=${encodeURIComponent(here + req.url)}`, 303);
    }
    const settings = `${appOrigin(requestHost(req), 'settings', deps.config.apps.subdomains, req.protocol)}/`;
    const email = await deps.emailChanges.confirm(instance, req.query.token ?? '', Date.now());
    if (email === null) return badLink(req, reply, instance, settings);
    req.log.info({ domain: instance.domain }, 'the owner confirmed a new e-mail address');
    await recordEvent(deps, req, instance, 'email_changed', { from: maskEmail(instance.email), to: maskEmail(email) });
    const now = await deps.store.settings(instance);
    announceInstance(deps.bus, now.instance, await instanceResource(deps, now.instance, now.settings));
    return reply.redirect(settings, 307);
  });
}
