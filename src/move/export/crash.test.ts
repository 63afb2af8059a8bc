/**
 * kill -9 of a server in the middle of an export: after a restart the export is marked failed (its job is gone), and a
 * new export can be asked for and succeeds.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { childScript } from '../../../test/helpers/child-script.js';
import { rawRequest } from '../../../test/helpers/hearth.js';
import { until } from '../../../test/helpers/jobs.js';
import { SqliteExportStore } from './store.js';

const dir = mkdtempSync(join(tmpdir(), 'hearth-export-crash-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

type Line = { port?: number; domain?: string; token?: string; exporting?: string };

/** Starts the child; `lines` gets every JSON line it prints. */
function start(port: number, mode: 'hold' | 'run', lines: Line[]): Promise<{ child: ChildProcess; port: number; domain: string; token: string }> {
  const child = spawn(process.execPath, [childScript('test/helpers/export-crash-child.ts'), dir, String(port), mode], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (l) => {
      const line = JSON.parse(l) as Line;
      lines.push(line);
      if (line.port) resolve({ child, port: line.port, domain: line.domain!, token: line.token! });
    });
    child.once('exit', (code) => reject(new Error(`exited early with ${code}`)));
  });
}

const ask = (s: { port: number; domain: string; token: string }) =>
  rawRequest(s.port, 'POST', '/move/exports', { host: s.domain, token: s.token, body: { data: { type: 'io.cozy.exports', attributes: {} } } });

describe('kill -9 during an export', () => {
  it('after a restart the export is marked failed, and a new one succeeds', async () => {
    const lines: Line[] = [];
    const first = await start(0, 'hold', lines);
    expect((await ask(first)).status).toBe(201);
    await until(() => lines.some((l) => l.exporting), 30_000);
    const id = lines.find((l) => l.exporting)!.exporting!;
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));
    const store = new SqliteExportStore(join(dir, 'exports.sqlite'));
    const held = await store.get(id);
    expect(held?.doc.state).toBe('exporting');
    const instanceId = held!.instanceId;
    const second = await start(first.port, 'run', []);
    // the engine errors the job cut by the crash (one try), the sweep sees it and marks the export failed
    await until(async () => (await store.get(id))?.doc.state === 'error', 90_000);
    expect((await store.get(id))?.doc.error).toContain('interrupted');
    expect((await ask(second)).status).toBe(201);
    await until(async () => (await store.list(instanceId)).some((d) => d.state === 'done'), 30_000);
    const exports = await store.list(instanceId);
    expect(exports.map((d) => d.state)).toEqual(['done']);
    await store.close();
  }, 300_000);
});
