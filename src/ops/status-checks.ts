/**
 * The dependency checks behind GET /status (status/routes.ts runs them): each one does a real
 * round trip to its dependency and resolves with its latency in ms, or throws what went wrong.
 * The SMTP check is the only one that leaves the process: it is cached and refreshed in the
 * background, so /status never waits on a slow relay for more than its short timeout, once.
 */
import { performance } from 'node:perf_hooks';
import type { HearthConfig } from '../config/types.js';
import type { SmtpSettings } from '../mail/mailer.js';
import type { StatusCheck } from '../status/routes.js';

/** A check that keeps its last result for `ttlMs`; a stale result is served while a new check runs. */
export function cachedCheck(name: string, probe: () => Promise<number>, ttlMs: number, now: () => number = Date.now): StatusCheck {
  let last: { at: number; ms: number } | { at: number; error: Error } | null = null;
  let running: Promise<void> | null = null;
  const refresh = () =>
    (running ??= probe()
      .then((ms) => { last = { at: now(), ms }; }, (err: unknown) => { last = { at: now(), error: err instanceof Error ? err : new Error(String(err)) }; })
      .finally(() => { running = null; }));
  return {
    name,
    async check() {
      if (last === null) await refresh();
      else if (now() - last.at >= ttlMs) void refresh();
      const result = last!;
      if ('error' in result) throw result.error;
      return result.ms;
    },
  };
}

/** Times a query, synchronous (a better-sqlite3 statement) or not. */
export function timed(query: () => unknown): () => Promise<number> {
  return async () => {
    const start = performance.now();
    await query();
    return performance.now() - start;
  };
}

/**
 * The per-instance docs databases: one sample, the first instance of the registry (chosen once
 * a minute, so /status does not list the registry each time), pinged with a real query. It is
 * looked up again before each ping, so that a destroyed instance's database is never reopened.
 * With no instance yet there is nothing to sample and the check passes.
 */
export function docsSampleCheck<I>(
  firstInstance: () => Promise<I | null>, stillThere: (instance: I) => Promise<boolean>, ping: (instance: I) => Promise<number>, now: () => number = Date.now,
): StatusCheck {
  let chosen: { at: number; instance: I | null } | null = null;
  return {
    name: 'docs',
    async check() {
      const start = performance.now();
      if (chosen?.instance && !(await stillThere(chosen.instance))) chosen = null;
      if (chosen === null || now() - chosen.at > 60_000) chosen = { at: now(), instance: await firstInstance() };
      if (chosen.instance === null) return performance.now() - start;
      return ping(chosen.instance);
    },
  };
}

export interface OpsCheckDeps {
  /** A real query on jobs.sqlite (the broker looks a job up by id). */
  jobs: { get(domain: string, id: string): Promise<unknown> };
  /** A real query on the sessions' store (sessions.sqlite, or PostgreSQL). */
  sessions: { get(id: string): Promise<unknown> };
  firstInstance(): Promise<{ domain: string; id: string } | null>;
  /** The instance is still in the registry (not destroyed since it was picked). */
  stillThere(instance: { domain: string; id: string }): Promise<boolean>;
  pingDocs(instance: { domain: string; id: string }): Promise<number>;
  /** Set only when mail goes through an SMTP relay: a fresh connection (EHLO, STARTTLS, AUTH) and its round trip. */
  smtpProbe?: () => Promise<number>;
  /** How long an SMTP result is served before it is checked again (default 30 s). */
  smtpTtlMs?: number;
}

/** The checks of the job broker, the sessions, an instance's docs and (SMTP only) the mail relay. */
export function opsStatusChecks(deps: OpsCheckDeps): StatusCheck[] {
  const checks: StatusCheck[] = [
    { name: 'jobs', check: async () => { const start = performance.now(); await deps.jobs.get('', 'status-probe'); return performance.now() - start; } },
    { name: 'sessions', check: timed(() => deps.sessions.get('status-probe')) },
    docsSampleCheck(deps.firstInstance, deps.stillThere, deps.pingDocs),
  ];
  if (deps.smtpProbe) checks.push(cachedCheck('smtp', deps.smtpProbe, deps.smtpTtlMs ?? 30_000));
  return checks;
}

/** Connects to the relay with short timeouts (2 s to connect and for the greeting, 3 s in all) and closes. */
export async function smtpProbe(settings: SmtpSettings, timeoutMs = 2000): Promise<number> {
  const { SmtpMailer } = await import('../mail/mailer.js');
  const probe = new SmtpMailer(settings, null, timeoutMs);
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      probe.ping(),
      new Promise<number>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`the SMTP server ${settings.host}:${settings.port} did not answer within ${(timeoutMs * 1.5) / 1000} s`)), timeoutMs * 1.5);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    await probe.close();
  }
}

/** Mail goes through an SMTP relay (mail/index.ts's mailMode, without loading nodemailer here): `auto` is SMTP outside --dev. */
export const smtpConfigured = (config: HearthConfig): boolean => (config.mail.mode === 'auto' ? !config.dev : config.mail.mode === 'smtp');
