/**
 * What Accounts reads and writes, through cozy-client: the installed konnectors (KonnectorCollection, GET /konnectors/),
 * their accounts (io.cozy.accounts through /data), the accounts' triggers (TriggerCollection: /jobs/triggers, created
 * with the konnector's crontab as cozy-harvest does, launched with /jobs/triggers/:id/launch) and their runs
 * (/jobs/triggers/:id/jobs). Credentials are written once and never read back into the page: the stack seals them
 * (`auth.credentials_encrypted`), and the app keeps what it read of them only to write it back unchanged.
 */
import type { AppClient } from '../../shared/client';

export const ACCOUNTS = 'io.cozy.accounts';
export const KONNECTORS = 'io.cozy.konnectors';
export const TRIGGERS = 'io.cozy.triggers';
export const JOBS = 'io.cozy.jobs';
export const JOB_EVENTS = 'io.cozy.jobs.events';

export interface FieldSpec {
  type?: string;
  label?: string;
  required?: boolean;
  advanced?: boolean;
  placeholder?: string;
  default?: string;
  options?: { name?: string; value?: string }[];
  pattern?: string;
  min?: number;
  max?: number;
}

export interface Konnector {
  slug: string;
  name: string;
  state?: string;
  version?: string;
  vendor_link?: string;
  categories?: string[];
  fields?: Record<string, FieldSpec>;
  frequency?: string;
  time_interval?: [number, number];
  on_delete_account?: string;
  locales?: Record<string, { short_description?: string; description?: string; fields?: Record<string, { label?: string; placeholder?: string }> }>;
}

export interface Account {
  _id: string;
  _rev: string;
  account_type: string;
  /** What the stack keeps: the login in clear, the rest sealed (`credentials_encrypted`, `<field>_encrypted`). */
  auth?: Record<string, unknown>;
  identifier?: string;
  name?: string;
  cozyMetadata?: { createdAt?: string };
}

export interface TriggerState {
  status?: string;
  last_execution?: string;
  last_executed_job_id?: string;
  last_success?: string;
  last_failure?: string;
  last_error?: string;
}

export interface Trigger {
  _id: string;
  type: string;
  arguments: string;
  worker: string;
  message: { konnector?: string; account?: string };
  current_state?: TriggerState;
}

export type JobState = 'queued' | 'running' | 'done' | 'errored';
export interface Job {
  _id: string;
  state: JobState;
  trigger_id?: string;
  queued_at?: string;
  started_at?: string;
  finished_at?: string;
  error?: string;
}

/** One line a konnector printed (an io.cozy.jobs.events event). */
export interface LogLine { job_id: string; type: string; message: string }

const asList = <T>(r: unknown): T[] => ((r as { data?: T[] } | null)?.data ?? []);

export async function listKonnectors(client: AppClient): Promise<Konnector[]> {
  const r = await client.collection(KONNECTORS).all();
  return asList<Konnector>(r).filter((k) => typeof k.slug === 'string').sort((a, b) => (a.name || a.slug).localeCompare(b.name || b.slug));
}

export async function listAccounts(client: AppClient): Promise<Account[]> {
  const r = await client.collection(ACCOUNTS).all({ limit: null } as never);
  return asList<Account>(r).filter((a) => typeof a.account_type === 'string' && !a._id.startsWith('_design'));
}

export async function listTriggers(client: AppClient): Promise<Trigger[]> {
  const r = await client.collection(TRIGGERS).find({ worker: 'konnector' });
  return asList<Trigger>(r);
}

export const triggerOf = (triggers: Trigger[], accountId: string): Trigger | undefined =>
  triggers.find((t) => t.worker === 'konnector' && t.message?.account === accountId);

export async function runsOf(client: AppClient, triggerId: string, limit = 10): Promise<Job[]> {
  const r = await client.getStackClient().fetchJSON('GET', `/jobs/triggers/${encodeURIComponent(triggerId)}/jobs?Limit=${limit}`);
  return asList<{ id: string; attributes: Omit<Job, '_id'> }>(r).map((j) => ({ ...j.attributes, _id: j.id }));
}

export interface RunLine { type: string; message: string; time: string }

/** What a past run printed, as far as the stack kept it (GET /jobs/:id/logs: its last lines; `dropped` earlier ones). */
export async function runLogOf(client: AppClient, jobId: string): Promise<{ lines: RunLine[]; dropped: number }> {
  const r = (await client.getStackClient().fetchJSON('GET', `/jobs/${encodeURIComponent(jobId)}/logs`)) as { data: { attributes: { lines: RunLine[]; dropped: number } } };
  return r.data.attributes;
}

export async function getJob(client: AppClient, id: string): Promise<Job> {
  const r = (await client.getStackClient().fetchJSON('GET', `/jobs/${encodeURIComponent(id)}`)) as { data: { id: string; attributes: Omit<Job, '_id'> } };
  return { ...r.data.attributes, _id: r.data.id };
}

/**
 * The konnector's crontab (seconds first), as cozy-harvest draws it: a random minute and hour within the manifest's
 * `time_interval` (default 0–5 h), a random week day for `weekly` (the default frequency), a day of the month for `monthly`.
 */
export function konnectorCron(k: Pick<Konnector, 'frequency' | 'time_interval'>, random: () => number = Math.random): string {
  const pick = (n: number) => Math.floor(random() * n);
  const iv = k.time_interval;
  const [lo, hi] = Array.isArray(iv) && iv.length === 2 && iv[0] >= 0 && iv[1] <= 24 && iv[0] < iv[1] ? iv : [0, 5];
  const min = pick(60);
  const hour = lo + pick(hi - lo);
  switch (k.frequency) {
    case 'hourly': return `0 ${min} * * * *`;
    case 'daily': return `0 ${min} ${hour} * * *`;
    case 'monthly': return `0 ${min} ${hour} ${1 + pick(28)} * *`;
    default: return `0 ${min} ${hour} * * ${pick(7)}`;
  }
}

/** Creates the account, then its trigger (cozy-harvest's flow); the account is removed again if the trigger is refused. */
export async function createAccount(client: AppClient, k: Konnector, auth: Record<string, unknown>): Promise<{ account: Account; trigger: Trigger }> {
  const saved = (await client.save({ _type: ACCOUNTS, account_type: k.slug, auth, state: null } as never)) as { data: Account };
  const account = saved.data;
  try {
    const t = (await client.collection(TRIGGERS).create({
      type: '@cron', arguments: konnectorCron(k), worker: 'konnector', message: { account: account._id, konnector: k.slug },
    } as never)) as { data: Trigger };
    return { account, trigger: t.data };
  } catch (e) {
    await client.destroy({ ...account, _type: ACCOUNTS } as never).catch(() => undefined);
    throw e;
  }
}

/**
 * Writes the account's new credentials. `auth` holds what the form gave; the sealed fields the stack keeps
 * (`credentials_encrypted`, `<field>_encrypted`) are carried over unless the form gave the clear value again.
 */
export async function updateAccount(client: AppClient, account: Account, auth: Record<string, unknown>): Promise<Account> {
  const kept: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(account.auth ?? {})) {
    if (k === 'credentials_encrypted' && 'password' in auth) continue;
    if (k.endsWith('_encrypted') && k.slice(0, -'_encrypted'.length) in auth) continue;
    kept[k] = v;
  }
  const saved = (await client.save({ ...account, _type: ACCOUNTS, auth: { ...kept, ...auth } } as never)) as { data: Account };
  return saved.data;
}

export async function launch(client: AppClient, trigger: Trigger): Promise<Job> {
  const r = (await client.collection(TRIGGERS).launch(trigger as never)) as { data: Job & { id?: string } };
  return { ...r.data, _id: r.data._id ?? r.data.id ?? '' };
}

/** Deletes the account; the stack deletes its triggers and runs the konnector's `on_delete_account` (cozy-stack's hook). */
export async function deleteAccount(client: AppClient, account: Account): Promise<void> {
  await client.destroy({ ...account, _type: ACCOUNTS } as never);
}
