import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { walk } from './walk.js';

const root = mkdtempSync(join(tmpdir(), 'hearth-walk-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const id = 'a'.repeat(32);
const key = 'b'.repeat(32);
const sha = 'c'.repeat(64);

describe('what a backup takes from a data directory', () => {
  it('databases through SQLite, blobs that are never rewritten (shareable), other files copied; what is being written left out', async () => {
    const files = [
      'registry.sqlite', 'registry.sqlite-wal', 'registry.sqlite-shm', 'jobs.sqlite', 'dev-instance.json', '.status-123',
      'hearth.lock', 'hearth.lock.owner', 'hearth.lock.owner.123.tmp',
      `instances/${id}/docs.sqlite`, `instances/${id}/docs.sqlite-journal`, `instances/${id}/files/bb/${key}`, `instances/${id}/thumbs/bb/${key}`,
      `instances/${id}/files/.tmp/${key}.part`, `instances/${id}/avatar/avatar`, `instances/${id}/avatar/.avatar-0011.tmp`,
      `instances/${id}/wallpaper/wallpaper`, `instances/${id}/wallpaper/.wallpaper-0011.tmp`,
      `apps-code/cc/${sha}/raw/index.html`, `apps-code/cc/${sha}/index.json`, `apps-code/.tmp/${sha}-x/raw/a.js`, 'outbox/1.eml',
    ];
    for (const f of files) {
      mkdirSync(dirname(join(root, f)), { recursive: true });
      writeFileSync(join(root, f), 'x');
    }
    expect(await walk(root)).toEqual([
      { path: `apps-code/cc/${sha}/index.json`, kind: 'blob' },
      { path: `apps-code/cc/${sha}/raw/index.html`, kind: 'blob' },
      { path: 'dev-instance.json', kind: 'file' },
      { path: `instances/${id}/avatar/avatar`, kind: 'blob' },
      { path: `instances/${id}/docs.sqlite`, kind: 'sqlite' },
      { path: `instances/${id}/files/bb/${key}`, kind: 'blob' },
      { path: `instances/${id}/thumbs/bb/${key}`, kind: 'blob' },
      { path: `instances/${id}/wallpaper/wallpaper`, kind: 'blob' },
      { path: 'jobs.sqlite', kind: 'sqlite' },
      { path: 'outbox/1.eml', kind: 'file' },
      { path: 'registry.sqlite', kind: 'sqlite' },
    ]);
  });
});
