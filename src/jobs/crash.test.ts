import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { childScript } from '../../test/helpers/child-script.js';
import { until } from '../../test/helpers/jobs.js';

const dir = mkdtempSync(join(tmpdir(), 'hearth-jobs-crash-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function start(mode: 'seed' | 'run'): Promise<ChildProcess> {
  const child = spawn(process.execPath, [childScript('test/fixtures/jobs-crash-main.ts'), dir, mode], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`exited early with ${code}`)));
  });
}
const marks = () => (existsSync(join(dir, 'marks.log')) ? readFileSync(join(dir, 'marks.log'), 'utf8').trim().split('\n') : []);

describe('kill -9 of a process with queued and running jobs', () => {
  it('after a restart everything runs, the cut run is retried, and nothing finished runs twice', async () => {
    const first = await start('seed');
    await until(() => marks().includes('start b'), 20_000);
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    const before = marks();
    expect(before).toEqual(['start a', 'done a', 'start b']);
    const second = await start('run');
    await until(() => ['done b', 'done c', 'done d'].every((m) => marks().includes(m)), 20_000);
    await new Promise((r) => setTimeout(r, 200));
    second.kill('SIGTERM');
    const after = marks();
    expect(after.filter((m) => m === 'done a')).toHaveLength(1);
    expect(after.filter((m) => m === 'start b')).toHaveLength(2);
    for (const name of ['b', 'c', 'd']) expect(after.filter((m) => m === `done ${name}`)).toHaveLength(1);
  }, 60_000);
});
