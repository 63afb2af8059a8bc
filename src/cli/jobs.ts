/**
 * `hearth jobs run`, `hearth triggers ls|launch`, `hearth konnectors run`: jobs through the admin API.
 * A run is followed until it ends: its states, the lines it logs, and the time it has taken (a
 * live line on a terminal); the exit code is 1 when the job errored.
 */
import { Argument, InvalidArgumentError, type Command } from 'commander';
import { AdminClient, withAdminOptions, type AdminOptions } from './client.js';
import { CliError, err, out, parseDomain, printJson, table } from './io.js';

type Env = Record<string, string | undefined>;
interface JobResource { id: string; attributes: { worker: string; state: string; error?: string; queued_at: string; started_at?: string; finished_at?: string; trigger_id?: string } }
interface TriggerResource { id: string; attributes: { type: string; arguments: string; worker: string; message: unknown; current_state?: { status?: string; last_execution?: string; last_error?: string } } }
type Line = { type: 'job'; job: JobResource } | { type: 'log'; event: { type?: string; message?: string } };

const examples = (...lines: string[]) => `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;
const enc = encodeURIComponent;

function jsonArg(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    throw new InvalidArgumentError('expected JSON, such as \'{"mode": "noreply"}\'');
  }
}

function seconds(raw: string): number {
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a number of seconds, such as 60');
  return n;
}

const withDomain = (cmd: Command) => withAdminOptions(cmd).requiredOption('--domain <domain>', 'the instance, e.g. alice.example.org', parseDomain);

/** Follows a job's NDJSON events until it ends; prints them unless `quiet`. Returns the last state. */
async function follow(client: AdminClient, domain: string, jobId: string, opts: { quiet: boolean }): Promise<JobResource> {
  const tty = process.stderr.isTTY === true && !opts.quiet;
  const started = Date.now();
  let last: JobResource | null = null;
  let state = '';
  const clear = () => tty && err('\r\x1b[2K');
  const status = () => tty && err(`\r\x1b[2K  ${state || 'queued'} … ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const ticker = tty ? setInterval(status, 200) : null;
  try {
    await client.stream(`/instances/${enc(domain)}/jobs/${enc(jobId)}/events`, (raw) => {
      const line = JSON.parse(raw) as Line;
      if (line.type === 'job') {
        last = line.job;
        if (line.job.attributes.state !== state && !opts.quiet) {
          clear();
          out(`${new Date().toISOString()}  job ${line.job.id} ${line.job.attributes.state}${line.job.attributes.error ? `: ${line.job.attributes.error}` : ''}\n`);
        }
        state = line.job.attributes.state;
      } else if (!opts.quiet) {
        clear();
        out(`${new Date().toISOString()}  [${line.event.type ?? 'info'}] ${line.event.message ?? JSON.stringify(line.event)}\n`);
      }
      status();
    });
  } finally {
    if (ticker) clearInterval(ticker);
    clear();
  }
  if (!last) throw new CliError(`the server sent nothing about job ${jobId}`);
  return last;
}

async function runAndFollow(client: AdminClient, domain: string, worker: string, body: Record<string, unknown>, o: { detach?: boolean; format?: string }): Promise<void> {
  const { data } = await client.request<{ data: JobResource }>('POST', `/instances/${enc(domain)}/jobs/queue/${enc(worker)}`, body);
  const asJson = o.format === 'json';
  if (o.detach) return asJson ? printJson(data.data) : out(`job ${data.data.id} queued\n`);
  const end = await follow(client, domain, data.data.id, { quiet: asJson });
  const { data: final } = await client.request<{ data: JobResource }>('GET', `/instances/${enc(domain)}/jobs/${enc(end.id)}`);
  if (asJson) printJson(final.data);
  else {
    const a = final.data.attributes;
    const took = a.started_at && a.finished_at ? ` in ${((Date.parse(a.finished_at) - Date.parse(a.started_at)) / 1000).toFixed(1)} s` : '';
    out(`${a.state === 'done' ? 'Done' : 'Failed'}${took}${a.error ? `: ${a.error}` : ''}\n`);
  }
  if (final.data.attributes.state !== 'done') throw new CliError('', 1);
}

export function addJobsCommands(parent: Command, env: Env): void {
  const jobs = parent.command('jobs').description('queue jobs and follow them');
  withDomain(jobs.command('run').description('queue a job for a worker and follow it until it ends (exit 1 if it errors)'))
    .addArgument(new Argument('<worker>', 'the worker: log, sendmail, thumbnail, zip, unzip, konnector, service, trash-files, …'))
    .option('--json <arguments>', "the job's arguments, as JSON (cozy-stack's flag)", jsonArg)
    .option('--timeout <seconds>', 'stop the run after this many seconds', seconds)
    .option('--max-exec-count <n>', 'runs at most this many times, the first included', (v) => Number.parseInt(v, 10))
    .option('--detach', 'print the job id and return at once')
    .option('--format <format>', '"json" prints the final job as JSON (--json is the arguments, as in cozy-stack)')
    .addHelpText('after', examples("hearth jobs run log --domain alice.example.org --json '\"hello\"'", 'hearth jobs run clean-old-trashed --domain alice.example.org --format json'))
    .action(async (worker: string, o: AdminOptions & { domain: string; json?: unknown; timeout?: number; maxExecCount?: number; detach?: boolean; format?: string }) => {
      const options: Record<string, number> = {};
      if (o.timeout) options.timeout = o.timeout;
      if (o.maxExecCount) options.max_exec_count = o.maxExecCount;
      await runAndFollow(AdminClient.from(o, env), o.domain, worker, { arguments: o.json ?? null, options }, o);
    });

  const triggers = parent.command('triggers').description("list and launch an instance's triggers");
  withDomain(triggers.command('ls').description('list the triggers, with their last run'))
    .option('--worker <worker>', 'only the triggers of this worker')
    .option('--json', 'print the triggers as JSON')
    .addHelpText('after', examples('hearth triggers ls --domain alice.example.org', 'hearth triggers ls --domain alice.example.org --worker konnector --json'))
    .action(async (o: AdminOptions & { domain: string; worker?: string; json?: boolean }) => {
      const q = o.worker ? `?worker=${enc(o.worker)}` : '';
      const { data } = await AdminClient.from(o, env).request<{ data: TriggerResource[] }>('GET', `/instances/${enc(o.domain)}/triggers${q}`);
      if (o.json) return printJson(data.data);
      if (!data.data.length) return out(`No triggers on ${o.domain}.\n`);
      out(table([['ID', 'TYPE', 'ARGUMENTS', 'WORKER', 'STATUS', 'LAST RUN', 'LAST ERROR'], ...data.data.map((t) => {
        const s = t.attributes.current_state ?? {};
        return [t.id, t.attributes.type, t.attributes.arguments || '-', t.attributes.worker, s.status || '-', s.last_execution ?? '-', s.last_error ?? '-'];
      })]));
    });
  withDomain(triggers.command('launch').description('run a trigger now and follow its job'))
    .addArgument(new Argument('<trigger-id>', 'as `hearth triggers ls` prints it'))
    .option('--detach', 'print the job id and return at once')
    .option('--json', 'print the final job as JSON')
    .addHelpText('after', examples('hearth triggers launch 0123abcd… --domain alice.example.org'))
    .action(async (id: string, o: AdminOptions & { domain: string; detach?: boolean; json?: boolean }) => {
      const client = AdminClient.from(o, env);
      const { data } = await client.request<{ data: JobResource | null }>('POST', `/instances/${enc(o.domain)}/triggers/${enc(id)}/launch`);
      if (!data.data) throw new CliError('the trigger made no job (a debounce is pending)', 1);
      if (o.detach) return o.json ? printJson(data.data) : out(`job ${data.data.id} queued\n`);
      const end = await follow(client, o.domain, data.data.id, { quiet: o.json === true });
      if (o.json) printJson(end);
      else out(`${end.attributes.state === 'done' ? 'Done' : 'Failed'}${end.attributes.error ? `: ${end.attributes.error}` : ''}\n`);
      if (end.attributes.state !== 'done') throw new CliError('', 1);
    });

  const konnectors = parent.command('konnectors').description('run konnectors (from jobs.konnectorsDir)');
  withDomain(konnectors.command('run').description("run a konnector now, showing its progress and its log lines"))
    .addArgument(new Argument('<slug>', 'the konnector, a folder of jobs.konnectorsDir'))
    .option('--account <id>', 'the io.cozy.accounts document it works for')
    .option('--fields <json>', 'more fields for COZY_FIELDS, as JSON', jsonArg)
    .option('--json', 'print the final job as JSON instead of the log lines')
    .addHelpText('after', examples('hearth konnectors run sample --domain alice.example.org', 'hearth konnectors run sample --domain alice.example.org --account 7a3f…'))
    .action(async (slug: string, o: AdminOptions & { domain: string; account?: string; fields?: unknown; json?: boolean }) => {
      const fields = o.fields && typeof o.fields === 'object' ? (o.fields as Record<string, unknown>) : {};
      const args = { ...fields, konnector: slug, ...(o.account ? { account: o.account } : {}) };
      await runAndFollow(AdminClient.from(o, env), o.domain, 'konnector', { arguments: args }, { ...(o.json ? { format: 'json' } : {}) });
    });
}
