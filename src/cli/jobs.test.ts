import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type TestHearth } from '../../test/helpers/hearth.js';
import { fileURLToPath } from 'node:url';
import { main } from '../main.js';
import { captureStdio } from '../../test/helpers/stdio.js';

const FIXTURES = fileURLToPath(new URL('../../test/fixtures/konnectors', import.meta.url));

let h: TestHearth;
const io = captureStdio();
let env: Record<string, string>;

beforeAll(async () => {
  h = await startTestHearth({ jobs: { konnectorsDir: FIXTURES, appsDir: null, sandboxMemoryMb: 128, sandboxOutputBytes: 256 * 1024, eventSweepMs: 30_000 } });
  const url = await h.hearth.adminApp.listen({ host: '127.0.0.1', port: 0 });
  env = { HEARTH_ADMIN_URL: url, HEARTH_ADMIN_PASSPHRASE: 'admin-secret' };
});
afterAll(() => h.close());

const run = (...argv: string[]) => main(argv, env);

describe('hearth jobs run', () => {
  it('queues a job, follows its states until done, and exits 0', async () => {
    expect(await run('jobs', 'run', 'log', '--domain', h.domain, '--json', '"hello from the CLI"')).toBe(0);
    expect(io.stdout).toMatch(/job [0-9a-f]{32} done\n/);
    expect(io.stdout).toMatch(/\nDone in \d+\.\d s\n$/);
  });

  it('--format json prints the final job', async () => {
    expect(await run('jobs', 'run', 'log', '--domain', h.domain, '--json', '{"a":1}', '--format', 'json')).toBe(0);
    const job = JSON.parse(io.stdout) as { attributes: Record<string, unknown> };
    expect(job.attributes).toMatchObject({ worker: 'log', state: 'done', arguments: { a: 1 }, manual_execution: true });
  });

  it('says what is wrong: an unknown worker, bad JSON, an unknown instance', async () => {
    expect(await run('jobs', 'run', 'nope', '--domain', h.domain)).toBe(1);
    expect(io.stderr).toMatch(/no worker named "nope"/);
    io.stderr = '';
    expect(await run('jobs', 'run', 'log', '--domain', h.domain, '--json', '{oops')).toBe(2);
    expect(io.stderr).toMatch(/expected JSON/);
    io.stderr = '';
    expect(await run('jobs', 'run', 'log', '--domain', 'nobody.example.org')).toBe(1);
    expect(io.stderr).toMatch(/no instance for nobody\.example\.org/);
  });

  it('finds the instance by an alias too (the dev instance is also localhost:<port>)', async () => {
    await h.hearth.registry.modify(h.domain, { aliases: ['jobs-alias.localhost:7357'] });
    try {
      expect(await run('jobs', 'run', 'log', '--domain', 'jobs-alias.localhost:7357', '--json', '"by alias"'), io.stderr).toBe(0);
      expect(io.stdout).toMatch(/job [0-9a-f]{32} done\n/);
    } finally {
      await h.hearth.registry.modify(h.domain, { aliases: [] });
    }
  });

  it('has --help with examples', async () => {
    expect(await run('jobs', 'run', '--help')).toBe(0);
    expect(io.stdout).toMatch(/Examples:\n\s+\$ hearth jobs run log --domain/);
  });
});

describe('hearth triggers', () => {
  it('lists the triggers and launches one, following its job', async () => {
    const trigger = await h.hearth.jobs.scheduler.create(h.domain, { type: '@cron', arguments: '0 0 4 * * *', worker: 'log', message: 'nightly' });
    expect(await run('triggers', 'ls', '--domain', h.domain)).toBe(0);
    expect(io.stdout).toMatch(/^ID\s+TYPE\s+ARGUMENTS\s+WORKER\s+STATUS\s+LAST RUN\s+LAST ERROR\n/);
    expect(io.stdout).toContain(trigger._id);
    io.stdout = '';
    expect(await run('triggers', 'launch', trigger._id, '--domain', h.domain)).toBe(0);
    expect(io.stdout).toMatch(/Done\n$/);
    io.stdout = '';
    expect(await run('triggers', 'ls', '--domain', h.domain, '--json')).toBe(0);
    const list = JSON.parse(io.stdout) as Array<{ id: string; attributes: { current_state: { status: string } } }>;
    expect(list.find((t) => t.id === trigger._id)!.attributes.current_state.status).toBe('done');
    expect(await run('triggers', 'launch', 'f'.repeat(32), '--domain', h.domain)).toBe(1);
    expect(io.stderr).toMatch(/no trigger/);
  });
});

describe('hearth konnectors run', () => {
  it("runs a konnector in its sandbox, printing its log lines, and its documents appear", async () => {
    expect(await run('konnectors', 'run', 'sample', '--domain', h.domain, '--fields', '{"amount": 42}')).toBe(0);
    expect(io.stdout).toMatch(/\[info\] starting\n/);
    expect(io.stdout).toMatch(/\[info\] bill saved\n/);
    expect(io.stdout).toMatch(/\nDone in \d+\.\d s\n$/);
    const token = await h.cliToken('io.cozy.bills');
    const bills = await h.req('POST', '/data/io.cozy.bills/_find', { token, body: { selector: { amount: 42 } } });
    expect((bills.body as { docs: unknown[] }).docs).toHaveLength(1);
  });

  it('exits 1 with the error of a konnector that fails', async () => {
    expect(await run('konnectors', 'run', 'sample', '--domain', h.domain, '--fields', '{"mode": "login-failed"}')).toBe(1);
    expect(io.stdout).toMatch(/Failed in \d+\.\d s: LOGIN_FAILED\n$/);
    io.stdout = '';
    expect(await run('konnectors', 'run', 'missing', '--domain', h.domain)).toBe(1);
    expect(io.stdout).toMatch(/Failed.*missing/);
  });
});
