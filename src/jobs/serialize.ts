/** The JSON-API resources of /jobs: io.cozy.jobs, io.cozy.triggers and io.cozy.triggers.state (cozy-stack's shapes). */
import type { JobDoc, TriggerDoc } from './types.js';
import { JOBS_DOCTYPE, TRIGGERS_DOCTYPE } from './types.js';

export const JSONAPI = 'application/vnd.api+json';

export function jobResource(job: JobDoc): Record<string, unknown> {
  const { _id, message, rights: _rights, instance_id: _instance, ...rest } = job;
  const attributes: Record<string, unknown> = { ...rest, message, arguments: message };
  delete attributes.tries;
  return { type: JOBS_DOCTYPE, id: _id, attributes, meta: {}, links: { self: `/jobs/${_id}` } };
}

export function triggerResource(doc: TriggerDoc): Record<string, unknown> {
  const { _id, rights: _rights, instance_id: _instance, ...attributes } = doc;
  const links: Record<string, string> = { self: `/jobs/triggers/${_id}` };
  if (doc.type === '@webhook') links.webhook = `/jobs/webhooks/${_id}`;
  return { type: TRIGGERS_DOCTYPE, id: _id, attributes: { ...attributes, current_state: { trigger_id: _id, status: '', ...doc.current_state } }, meta: {}, links };
}

export function stateResource(doc: TriggerDoc): Record<string, unknown> {
  return { type: 'io.cozy.triggers.state', id: doc._id, attributes: { trigger_id: doc._id, status: '', ...doc.current_state } };
}
