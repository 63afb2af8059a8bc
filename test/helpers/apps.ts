/** Web app fixtures for the serving tests: an app folder on disk, and an owner session's cookie. */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { SESSION_COOKIE, sessionCookieValue } from '../../src/auth/sessions.js';
import type { Instance } from '../../src/instances/types.js';
import type { TestHearth } from './hearth.js';

/** A folder holding `files` (path → content); `manifest.webapp` is written from `manifest` when given. */
export function appDir(files: Record<string, string | Buffer>, manifest?: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'hearth-app-'));
  const all = manifest ? { ...files, 'manifest.webapp': JSON.stringify(manifest) } : files;
  for (const [path, content] of Object.entries(all)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

/** A new owner session of `instance`, and the Cookie header that carries it (`name` in flat mode: `sess-<id>`). */
export async function ownerCookie(h: TestHearth, instance: Instance, name = SESSION_COOKIE): Promise<{ cookie: string; sessionId: string }> {
  const session = await h.hearth.sessions.create(instance, { userAgent: 'test', ip: '127.0.0.1' });
  return { cookie: `${name}=${sessionCookieValue((await h.hearth.registry.secrets(instance)).session, session.id)}`, sessionId: session.id };
}
