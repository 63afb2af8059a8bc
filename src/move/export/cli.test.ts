/** `hearth instances export` against a real server's admin API: the progress, --json, the zip written whole. */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../main.js';
import { defaultExportFile } from '../../cli/export.js';
import { ROOT, upload } from '../../../test/helpers/files.js';
import { startTestHearth, type TestHearth } from '../../../test/helpers/hearth.js';
import { readZip } from '../../../test/helpers/export.js';
import { captureStdio } from '../../../test/helpers/stdio.js';
import { fileContentEntry, INSTANCE_ENTRY } from '../layout.js';

const io = captureStdio();
const dir = mkdtempSync(join(tmpdir(), 'hearth-export-cli-'));
let h: TestHearth;
let env: Record<string, string>;
beforeAll(async () => {
  h = await startTestHearth({}, { exports: { sweepMs: 0 } });
  const url = await h.hearth.adminApp.listen({ host: '127.0.0.1', port: 0 });
  env = { HEARTH_ADMIN_URL: url, HEARTH_ADMIN_PASSPHRASE: 'admin-secret' };
  const token = await h.cliToken('io.cozy.files');
  await upload(h, token, ROOT, 'hello.txt', 'hello from the export');
});
afterAll(async () => {
  await h.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('hearth instances export', () => {
  it('writes every part in one zip, one JSON object per line with --json', async () => {
    const file = join(dir, 'alice.zip');
    io.stdout = '';
    expect(await main(['instances', 'export', h.domain, '--out', file, '--json'], env)).toBe(0);
    const lines = io.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; bytes?: number; file?: string });
    expect(lines[0]!.type).toBe('queued');
    expect(lines.at(-1)).toMatchObject({ type: 'done', file });
    expect(lines.at(-1)!.bytes).toBe(readFileSync(file).length);
    expect(existsSync(`${file}.part`)).toBe(false);
    const entries = await readZip(readFileSync(file));
    expect(entries[0]!.name).toBe(INSTANCE_ENTRY);
    expect(entries.find((e) => e.name === fileContentEntry('/hello.txt'))?.data.toString()).toBe('hello from the export');
  });

  it('says the bytes written for people, and refuses an unknown instance', async () => {
    io.stderr = '';
    const file = join(dir, 'people.zip');
    expect(await main(['instances', 'export', h.domain, '--out', file], env)).toBe(0);
    expect(io.stderr).toMatch(/people\.zip: .* written\./);
    expect(await main(['instances', 'export', 'nobody.example.org', '--out', join(dir, 'x.zip')], env)).toBe(1);
    expect(existsSync(join(dir, 'x.zip'))).toBe(false);
    expect(defaultExportFile('localhost:8080', new Date('2026-12-07T01:00:00Z'))).toBe('localhost_8080-2026-12-07.zip');
  });
});
