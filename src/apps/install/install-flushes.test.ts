/**
 * The durable writes of one install of stored code on the embedded engines (issue 14), counted by the kernel: the
 * server in a child process under `strace -f -e trace=fsync,fdatasync` (test/helpers/install-trace.ts). On its path
 * (from the call to its answer) one fdatasync, of the instance's docs.sqlite WAL (the permission document, the
 * trigger's copy and the app doc in one commit); its intent and code reference are committed without theirs
 * (apps/code/local-store.ts begin). After it, within the journal's settle, one of jobs.sqlite (its trigger). A change
 * that adds a flush to an install fails here. On PostgreSQL: install-flushes-pg.test.ts.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { childScript } from '../../../test/helpers/child-script.js';
import { ensureDebianPackage } from '../../../test/helpers/debian.js';
import { syncsBetween } from '../../../test/helpers/install-trace.js';

const dir = mkdtempSync(join(tmpdir(), 'hearth-flushes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the flushes of one install on SQLite', () => {
  it('one fdatasync on its path (the instance\'s docs.sqlite), one of jobs.sqlite after it, none of apps-code.sqlite', async () => {
    ensureDebianPackage('strace');
    const log = join(dir, 'strace.log');
    const child = spawn('strace', ['-f', '-y', '-e', 'trace=fsync,fdatasync', '-o', log, process.execPath, childScript('test/helpers/install-trace-child.ts'), join(dir, 'data'), join(dir, 'marks')], { stdio: ['ignore', 'ignore', 'inherit'] });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(0);
    const text = readFileSync(log, 'utf8');
    const onPath = syncsBetween(text, 'mark-begin', 'mark-returned');
    expect(onPath.map((f) => basename(f))).toEqual(['docs.sqlite-wal']);
    expect(onPath[0]).toContain('/instances/');
    const after = syncsBetween(text, 'mark-returned', 'mark-end').map((f) => basename(f));
    expect(after).toEqual(['jobs.sqlite-wal']);
  }, 60_000);
});
