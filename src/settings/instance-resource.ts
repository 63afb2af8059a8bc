/**
 * The settings document `io.cozy.settings.instance` as GET /settings/instance answers it and as its realtime events
 * carry it (routes.ts, email-routes.ts): the instance's fields, its settings and the address waiting for its
 * confirmation (`pending_email`, as cozy-stack keeps it in the document while an e-mail change is under way).
 */
import type { EventBus } from '../common/bus.js';
import type { EmailChangeStore, Instance, InstanceSettings } from '../instances/types.js';
import { contextOf } from '../instances/context.js';
import { SETTINGS_DOCTYPE, type SettingsDeps } from './access.js';

export const JSONAPI = 'application/vnd.api+json';
export const INSTANCE_ID = 'io.cozy.settings.instance';

export type InstanceDocDeps = Pick<SettingsDeps, 'twoFactor' | 'config'> & { emailChanges: EmailChangeStore };

export async function instanceResource(deps: InstanceDocDeps, instance: Instance, settings: InstanceSettings) {
  const [{ authMode }, pending] = await Promise.all([deps.twoFactor.twoFactor(instance), deps.emailChanges.pending(instance)]);
  const attributes = {
    locale: instance.locale, email: instance.email, public_name: instance.publicName, tz: instance.tz,
    default_redirection: settings.defaultRedirection ?? deps.config.settings.defaultRedirection,
    password_defined: instance.onboarded, onboarding_finished: instance.onboarded, auth_mode: authMode, auto_update: true, context: contextOf(instance),
    tracking: instance.tracking ? 'true' : 'false',
    ...(instance.tosSigned ? { tos: instance.tosSigned } : {}), ...(instance.tosLatest ? { tos_latest: instance.tosLatest } : {}),
    ...(pending ? { pending_email: pending } : {}),
  };
  return { type: SETTINGS_DOCTYPE, id: INSTANCE_ID, attributes, meta: { rev: settings.rev }, links: { self: '/settings/instance' } };
}

/** Tells the open apps of the instance the document changed (an UPDATED event on io.cozy.settings). */
export function announceInstance(bus: EventBus, instance: Instance, data: Awaited<ReturnType<typeof instanceResource>>): void {
  bus.publish({ domain: instance.domain, doctype: SETTINGS_DOCTYPE, id: INSTANCE_ID, verb: 'UPDATED', doc: { _id: INSTANCE_ID, _rev: data.meta.rev, ...data.attributes } });
}
