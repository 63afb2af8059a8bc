/**
 * The `konnector` and `service` workers (cozy-stack's worker/exec): find the code from its manifest, record
 * the manifest's permissions, issue a token for them, and run the code in the sandbox (run.ts) with the
 * COZY_* contract variables (docs/konnectors-workflow.md, "Konnector Worker specs"; docs/apps.md, services).
 * Each JSON line it prints is an io.cozy.jobs.events event; an `error` or `critical` line fails the job, and
 * LOGIN_FAILED / USER_ACTION_NEEDED* (but USER_ACTION_NEEDED.CGU_FORM) fail it for good (no automatic rerun).
 */
import { availableParallelism } from 'node:os';
import type { HearthConfig } from '../../config/types.js';
import { TOKEN_TTL, type TokenService } from '../../auth/tokens.js';
import type { Instance } from '../../instances/types.js';
import type { PermissionResolver } from '../../permissions/resolve.js';
import { PermanentJobError, type JobContext, type WorkerDef } from '../types.js';
import { konnectorFrom, loadKonnector, loadService, serviceFrom, validSlug } from './manifests.js';
import { crashSummary, runSandboxed, type SandboxLine } from './run.js';
import { RunLogCollector, type RunLogs } from '../run-logs.js';

export interface SandboxWorkerDeps {
  config: HearthConfig;
  perms: PermissionResolver;
  tokens: TokenService;
  /** The instance's public origin, given to the code as COZY_URL (e.g. `https://alice.example.org`). */
  publicUrl(instance: Instance): string;
  /**
   * The installed code of a konnector or web app (src/apps/install): its stored manifest and the folder of its raw
   * files, or null when it is not installed (then jobs.konnectorsDir / jobs.appsDir, the dev fallback, are read).
   * Installed code runs with the permission document the installer wrote; the fallback grants its manifest's rules.
   */
  installed?(instance: Instance, kind: 'konnector' | 'webapp', slug: string): Promise<{ dir: string; manifest: Record<string, unknown>; done(): Promise<void> } | null>;
  /** Where the lines a run printed are kept (jobs/run-logs.ts), so that a past run shows its log. */
  runLogs?: RunLogs;
}

/** cozy-stack's defaults (worker/exec/common.go): 300 s, two runs at most, twice the CPUs at once. */
export const SANDBOX_TIMEOUT_SECONDS = 300;
export const SANDBOX_MAX_EXEC_COUNT = 2;

const LEVELS: Record<string, 'debug' | 'info' | 'warn' | 'error' | 'fatal'> = { debug: 'debug', info: 'info', warning: 'warn', error: 'error', critical: 'fatal' };

/** True for the messages after which the scheduler must not run the konnector again by itself. */
export function needsUser(message: string): boolean {
  return message === 'LOGIN_FAILED' || message.startsWith('LOGIN_FAILED.') || (message.startsWith('USER_ACTION_NEEDED') && message !== 'USER_ACTION_NEEDED.CGU_FORM');
}

function objectMessage(message: unknown, worker: string): Record<string, unknown> {
  if (!message || typeof message !== 'object' || Array.isArray(message)) throw new PermanentJobError(`a ${worker} job needs an object of arguments`);
  return message as Record<string, unknown>;
}

interface Run {
  what: string;
  codeDir: string;
  entry: string;
  token: string;
  fields: unknown;
  extraEnv: Record<string, string>;
  timeoutSeconds: number;
  userErrors: boolean;
}

async function execute(deps: SandboxWorkerDeps, ctx: JobContext, run: Run): Promise<void> {
  const { job, instance } = ctx;
  const env: Record<string, string> = {
    COZY_URL: deps.publicUrl(instance),
    COZY_CREDENTIALS: run.token,
    COZY_FIELDS: JSON.stringify(run.fields ?? {}),
    COZY_PAYLOAD: job.payload === undefined ? '' : JSON.stringify(job.payload),
    COZY_LANGUAGE: 'node',
    COZY_LOCALE: instance.locale,
    COZY_TIME_LIMIT: String(run.timeoutSeconds),
    COZY_JOB_ID: job._id,
    COZY_TRIGGER_ID: job.trigger_id ?? '',
    COZY_JOB_MANUAL_EXECUTION: job.manual_execution ? 'true' : 'false',
    NODE_ENV: 'production',
    ...run.extraEnv,
  };
  let firstError: string | null = null;
  const kept = new RunLogCollector();
  const onLine = ({ event, system, stream }: SandboxLine) => {
    const level = LEVELS[event.type] ?? 'info';
    if (system) return ctx.log.info({ stream, worker: job.worker }, `${run.what}: ${event.message.slice(0, 2000)}`);
    ctx.log[level]({ event: event.type }, `${run.what}: ${event.message.slice(0, 2000)}`);
    ctx.emit(event);
    kept.add(event);
    if ((event.type === 'error' || event.type === 'critical') && firstError === null) firstError = event.message || event.type;
  };
  const res = await runSandboxed({
    codeDir: run.codeDir,
    entry: run.entry,
    env,
    timeoutMs: run.timeoutSeconds * 1000,
    memoryMb: deps.config.jobs.sandboxMemoryMb,
    outputBytes: deps.config.jobs.sandboxOutputBytes,
    signal: ctx.signal,
    onLine,
  });
  await deps.runLogs?.save(instance, job, kept.log()).catch((err: unknown) => ctx.log.warn({ err }, 'the log of the run could not be kept'));
  const error = firstError as string | null;
  if (error !== null && run.userErrors && needsUser(error)) throw new PermanentJobError(error);
  if (res.timedOut) throw new Error(`Timeout exceeded: ${run.what} ran for more than ${run.timeoutSeconds} s and was stopped`);
  if (res.memoryExceeded) throw new Error(`${run.what} used more than ${deps.config.jobs.sandboxMemoryMb} MB of memory and was stopped`);
  if (res.outputExceeded) throw new Error(`${run.what} wrote more than ${deps.config.jobs.sandboxOutputBytes} bytes of output and was stopped`);
  if (res.aborted) throw new Error(`${run.what} was aborted (${String((ctx.signal.reason as Error | undefined)?.message ?? 'shutdown')})`);
  if (error !== null) throw new Error(error);
  if (res.exitCode !== 0) {
    const why = crashSummary(res.stderrTail);
    throw new Error(`${run.what} exited with ${res.exitCode === null ? `signal ${String(res.signal)}` : `code ${res.exitCode}`}${why ? `: ${why}` : ''}`);
  }
}

function timeoutOf(ctx: JobContext): number {
  const t = ctx.job.options?.timeout;
  return typeof t === 'number' && t > 0 ? t : SANDBOX_TIMEOUT_SECONDS;
}

/** The token outlives the run (TOKEN_TTL or the timeout, plus a minute). */
const ttlFor = (aud: 'konn' | 'svc', timeoutSeconds: number) => Math.max(TOKEN_TTL[aud] ?? 0, timeoutSeconds + 60);

/** `konnector`: arguments `{konnector: slug, account?: id, folder_to_save?, …fields}`, all given as COZY_FIELDS. */
export function createKonnectorWorker(deps: SandboxWorkerDeps): WorkerDef {
  return {
    name: 'konnector',
    concurrency: 2 * availableParallelism(),
    maxExecCount: SANDBOX_MAX_EXEC_COUNT,
    timeoutSeconds: SANDBOX_TIMEOUT_SECONDS,
    async run(ctx) {
      const msg = objectMessage(ctx.job.message, 'konnector');
      const slug = validSlug(msg.konnector, 'konnector slug');
      const code = await deps.installed?.(ctx.instance, 'konnector', slug);
      try {
        const manifest = code ? konnectorFrom(slug, code.dir, code.manifest, { accountDeleted: msg.account_deleted === true }) : loadKonnector(deps.config, slug);
        if (!code) await deps.perms.grant(ctx.instance, 'konnector', manifest.slug, manifest.scope);
        const timeoutSeconds = timeoutOf(ctx);
        const token = await deps.tokens.issue(ctx.instance, { aud: 'konn', sub: manifest.slug }, ttlFor('konn', timeoutSeconds));
        await execute(deps, ctx, {
          what: `konnector ${manifest.slug}`,
          codeDir: manifest.codeDir,
          entry: manifest.entry,
          token,
          fields: msg,
          extraEnv: { COZY_PARAMETERS: JSON.stringify(manifest.parameters ?? {}) },
          timeoutSeconds,
          userErrors: true,
        });
      } finally {
        await code?.done();
      }
    },
  };
}

/** `service`: arguments `{slug, name, fields?}`; the service runs with its app's permissions (a `svc` token). */
export function createServiceWorker(deps: SandboxWorkerDeps): WorkerDef {
  return {
    name: 'service',
    concurrency: 2 * availableParallelism(),
    maxExecCount: SANDBOX_MAX_EXEC_COUNT,
    timeoutSeconds: SANDBOX_TIMEOUT_SECONDS,
    async run(ctx) {
      const msg = objectMessage(ctx.job.message, 'service');
      const slug = validSlug(msg.slug, 'app slug');
      const code = await deps.installed?.(ctx.instance, 'webapp', slug);
      try {
        const manifest = code ? serviceFrom(slug, msg.name, code.dir, code.manifest) : loadService(deps.config, slug, msg.name);
        if (!code) await deps.perms.grant(ctx.instance, 'app', manifest.slug, manifest.scope);
        const timeoutSeconds = timeoutOf(ctx);
        const token = await deps.tokens.issue(ctx.instance, { aud: 'svc', sub: manifest.slug }, ttlFor('svc', timeoutSeconds));
        await execute(deps, ctx, {
          what: `service ${manifest.slug}/${manifest.service}`,
          codeDir: manifest.codeDir,
          entry: manifest.entry,
          token,
          fields: msg.fields ?? {},
          extraEnv: ctx.job.event ? { COZY_COUCH_DOC: JSON.stringify(ctx.job.event.doc) } : {},
          timeoutSeconds,
          userErrors: false,
        });
      } finally {
        await code?.done();
      }
    },
  };
}
