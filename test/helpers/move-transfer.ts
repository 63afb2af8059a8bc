/**
 * Two real Hearth servers for a move between them (src/move/transfer): S (the source, instance `localhost:<port>`, its
 * mail to a real SMTP server) and T (the target, instance `127.0.0.1:<port>` — another host than S's, so that a browser
 * keeps each one's session cookie apart). S's `export` worker is replaced by one that keeps the messages it gets, so that
 * these step-by-step tests see what /move/go queued and drive the rest themselves (test/browser/move-wizard.test.ts
 * runs a whole move with the real export and import).
 */
import { expect } from 'vitest';
import type { ExportMessage } from '../../src/move/types.js';
import type { Instance } from '../../src/instances/types.js';
import type { WorkerDef } from '../../src/jobs/types.js';
import { derivePassphrase } from '../../src/auth/passphrase.js';
import { startTestHearth, type Res, type TestHearth } from './hearth.js';
import { startTestSmtp, type TestSmtp } from './smtp.js';

export const S_PASS = 'owner-pass';
export const T_PASS = 'target-pass';
export const OWNER_EMAIL = 'owner@example.org';
export const CSRF = 'c'.repeat(43);
export const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
export const form = (fields: Record<string, string>): string => new URLSearchParams(fields).toString();

export interface MovePair {
  s: TestHearth;
  t: TestHearth;
  /** S's instance and T's. */
  source: Instance;
  target: Instance;
  smtp: TestSmtp;
  /** The messages of the `export` jobs S ran. */
  exports: ExportMessage[];
  /** A request to T's instance. */
  treq: TestHearth['req'];
  close(): Promise<void>;
}

export async function startMovePair(): Promise<MovePair> {
  const smtp = await startTestSmtp();
  const exports: ExportMessage[] = [];
  const exportWorker: WorkerDef = { name: 'export', internal: true, run: async (ctx) => void exports.push(ctx.job.message as ExportMessage) };
  // both reach the other on loopback (move/net.ts refuses private addresses otherwise)
  const s = await startTestHearth({ mail: smtp.config, imports: { allowPrivateUrls: true } }, { extraWorkers: [exportWorker] });
  const t = await startTestHearth({ mail: smtp.config, imports: { allowPrivateUrls: true } });
  const source = await s.hearth.registry.modify(s.domain, { email: OWNER_EMAIL });
  const target = await t.hearth.registry.modify(t.otherDomain, { passphrase: T_PASS, email: 'target@example.org' });
  return {
    s, t, source, target, smtp, exports,
    treq: (method, path, opts = {}) => t.req(method, path, { host: t.otherDomain, ...opts }),
    async close() {
      await Promise.all([s.close(), t.close()]);
      await smtp.close();
    },
  };
}

export const setCookies = (r: Res): string[] => [r.headers['set-cookie'] ?? []].flat();

/** Logs the owner in (the login form) and answers the session cookie (`name=value`). */
export async function login(h: TestHearth, instance: Instance, passphrase: string): Promise<string> {
  const res = await h.req('POST', '/auth/login', {
    raw: form({ csrf_token: CSRF, passphrase: await derivePassphrase(passphrase, instance.domain, instance.kdfIterations) }),
    headers: { ...FORM, cookie: `hearth_csrf=${CSRF}` }, host: instance.domain,
  });
  expect(res.status).toBe(303);
  return (setCookies(res).find((c) => c.startsWith('cozysessid=')) ?? '').split(';')[0] as string;
}

/** The hidden fields of a page's form. */
export function hiddenFields(html: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) out[m[1] as string] = (m[2] as string).replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>');
  return out;
}

/** The path and query of an absolute URL. */
export const pathOf = (url: string): string => {
  const u = new URL(url);
  return `${u.pathname}${u.search}`;
};

/** Waits for the mail whose subject matches, and answers its /move/go link. */
export async function confirmationLink(smtp: TestSmtp, subject: RegExp): Promise<string> {
  await expect.poll(() => smtp.received.some((m) => subject.test(m.mail.subject ?? '')), { timeout: 60_000, interval: 200 }).toBe(true);
  const mail = smtp.received.find((m) => subject.test(m.mail.subject ?? ''));
  const link = /https?:\/\/\S+\/move\/go\?secret=[A-Za-z0-9_-]+/.exec(mail?.mail.text ?? '')?.[0];
  expect(link).toBeTruthy();
  return link as string;
}
