/**
 * The triggers of a web app's services (cozy-apps.md §4.4): each service whose manifest names a `trigger`
 * (`"@cron 0 0 0 * * *"`, `"@event io.cozy.files:CREATED"`) gets a trigger on the `service` worker with the
 * message `{slug, name}`; its id is kept in the doc's `services.<name>.trigger_id`. Updates diff the two
 * manifests; uninstall removes them all.
 */
import { BadRequest } from '../../common/errors.js';
import type { Instance } from '../../instances/types.js';
import type { TriggerQuery } from '../../jobs/broker.js';
import type { TriggerInput } from '../../jobs/scheduler.js';
import type { AppService } from '../types.js';

/** What the installer needs of the scheduler. */
export interface ServiceTriggers {
  /** `durable` false: without waiting for the disk (an install's triggers, which its journal covers until `sync()`). */
  create(domain: string, input: TriggerInput, opts?: { id?: string; durable?: boolean }): Promise<{ _id: string }>;
  delete(domain: string, id: string): Promise<void>;
  list(domain: string, query: TriggerQuery): Promise<Array<{ _id: string; message?: unknown }>>;
  /** Resolves once every trigger written before is durable. */
  sync(): Promise<void>;
}

type Services = Record<string, AppService>;

function split(trigger: string): { type: string; arguments: string } {
  const t = trigger.trim();
  const space = t.search(/\s/);
  return space < 0 ? { type: t, arguments: '' } : { type: t.slice(0, space), arguments: t.slice(space + 1).trim() };
}

/** The manifest's services, checked enough to build triggers from them (400 otherwise). */
export function servicesOf(raw: unknown): Services {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new BadRequest('the manifest\'s "services" must be a map of services');
  for (const [name, s] of Object.entries(raw as Record<string, unknown>)) {
    if (!s || typeof s !== 'object') throw new BadRequest(`the manifest's service "${name.slice(0, 60)}" must be an object`);
    const trigger = (s as AppService).trigger;
    if (trigger !== undefined && typeof trigger !== 'string') throw new BadRequest(`the manifest's service "${name.slice(0, 60)}" has a trigger that is not a string`);
  }
  return raw as Services;
}

async function removeAll(triggers: ServiceTriggers, instance: Instance, ids: string[]): Promise<void> {
  for (const id of ids) {
    await triggers.delete(instance.domain, id).catch(() => undefined); // already gone: nothing to remove
  }
}

/**
 * Creates the triggers `next` needs that `prev` does not already have (same name, same trigger), and returns
 * `next` with each `trigger_id` set, the ids of `prev`'s triggers that are no longer used, and the triggers made. On a failure the
 * triggers it created are removed again.
 */
export async function planTriggers(triggers: ServiceTriggers, instance: Instance, slug: string, prev: Services, next: Services, durable = true): Promise<{ services: Services; stale: string[]; made: Array<{ _id: string }> }> {
  const services: Services = {};
  const created: string[] = [];
  const made: Array<{ _id: string }> = [];
  const kept = new Set<string>();
  try {
    for (const [name, svc] of Object.entries(next)) {
      const { trigger_id: _ignored, ...rest } = svc;
      const old = Object.hasOwn(prev, name) ? prev[name] : undefined;
      if (!svc.trigger) {
        services[name] = rest;
      } else if (old?.trigger_id && old.trigger === svc.trigger && (old.debounce ?? '') === (svc.debounce ?? '')) {
        kept.add(old.trigger_id);
        services[name] = { ...rest, trigger_id: old.trigger_id };
      } else {
        const t = await triggers.create(instance.domain, serviceTrigger(slug, name, svc.trigger, svc.debounce), { durable });
        created.push(t._id);
        made.push(t);
        services[name] = { ...rest, trigger_id: t._id };
      }
    }
  } catch (e) {
    await removeAll(triggers, instance, created);
    throw e;
  }
  const stale = Object.values(prev).flatMap((s) => (s.trigger_id && !kept.has(s.trigger_id) ? [s.trigger_id] : []));
  return { services, stale, made };
}

/** The trigger of a service whose manifest names one. */
function serviceTrigger(slug: string, name: string, trigger: string, debounce: string | undefined): TriggerInput {
  return { ...split(trigger), worker: 'service', message: { slug, name }, ...(debounce ? { debounce } : {}) };
}

/**
 * After a crash: makes the service triggers of `slug` on the instance exactly those `services` name (an install's doc;
 * none when the install is undone): removes the others, makes again, with their ids, those a crash lost. Returns how
 * many were removed and made.
 */
export async function repairTriggers(triggers: ServiceTriggers, instance: Instance, slug: string, services: Services): Promise<{ removed: number; made: number }> {
  const named = new Map(Object.entries(services).flatMap(([name, s]) => (s.trigger_id && s.trigger ? [[s.trigger_id, { name, trigger: s.trigger, debounce: s.debounce }] as const] : [])));
  const existing = (await triggers.list(instance.domain, { workers: ['service'] })).filter((t) => (t.message as { slug?: unknown } | null)?.slug === slug);
  const orphans = existing.filter((t) => !named.has(t._id)).map((t) => t._id);
  await removeAll(triggers, instance, orphans);
  const have = new Set(existing.map((t) => t._id));
  let made = 0;
  for (const [id, { name, trigger, debounce }] of named) {
    if (have.has(id)) continue;
    await triggers.create(instance.domain, serviceTrigger(slug, name, trigger, debounce), { id });
    made++;
  }
  return { removed: orphans.length, made };
}

/** Removes the triggers of these services (uninstall, or the stale ones of an update). */
export function removeTriggers(triggers: ServiceTriggers, instance: Instance, ids: string[]): Promise<void> {
  return removeAll(triggers, instance, ids);
}
