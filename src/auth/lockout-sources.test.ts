/**
 * The login lock-out stops guessing without letting a stranger keep the owner out: a stranger's failures lock out
 * the stranger's address (an IPv6 one by its /64), not the owner's; guesses spread over many addresses lock the
 * whole instance, and the owner then gets in by resetting the passphrase with the link mailed to the instance.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type Res, type TestHearth } from '../../test/helpers/hearth.js';
import { DEFAULTS } from '../config/schema.js';
import { readMail } from '../mail/mime-read.js';
import { listOutbox, outboxDir, readOutboxMail } from '../mail/outbox.js';
import { derivePassphrase } from './passphrase.js';

const ITER = 1000;
const CSRF = 'c'.repeat(43);
let h: TestHearth;
let good: string;
let bad: string;

beforeAll(async () => {
  // X-Forwarded-For from the loopback proxy gives each request the client address the test chooses
  h = await startTestHearth({ server: { ...DEFAULTS.server, port: 0, trustProxy: '127.0.0.1' } });
  good = await derivePassphrase('owner-pass', h.domain, ITER);
  h.instance = await h.hearth.registry.setDerivedPassphrase(h.instance, good, ITER);
  await h.hearth.registry.modify(h.domain, { email: 'owner@example.org' });
  bad = await derivePassphrase('a guess', h.domain, ITER);
});
afterAll(() => h.close());

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const postForm = (path: string, ip: string, fields: Record<string, string>): Promise<Res> =>
  h.req('POST', path, { raw: form({ csrf_token: CSRF, ...fields }), headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `hearth_csrf=${CSRF}`, 'x-forwarded-for': ip } });
const login = (ip: string, passphrase: string) => postForm('/auth/login', ip, { passphrase, redirect: '' });

async function guessUntilLocked(ip: string): Promise<void> {
  for (let i = 0; i < 9; i++) expect((await login(ip, bad)).status).toBe(401);
  expect((await login(ip, bad)).status).toBe(429);
}

describe('the login lock-out', () => {
  it('locks out the stranger\'s address, not the owner logging in from another', async () => {
    await guessUntilLocked('198.51.100.7');
    expect((await login('198.51.100.7', good)).status).toBe(429);
    expect((await login('203.0.113.9', good)).status).toBe(303);
    // the owner's success does not free the stranger's address
    expect((await login('198.51.100.7', good)).status).toBe(429);
  });

  it('counts an IPv6 client by its /64', async () => {
    for (let i = 1; i <= 9; i++) expect((await login(`2001:db8:0:7::${i.toString(16)}`, bad)).status).toBe(401);
    expect((await login('2001:db8:0:7::ffff', bad)).status).toBe(429);
    expect((await login('2001:db8:0:7:abcd::1', good)).status).toBe(429);
    expect((await login('2001:db8:0:8::1', good)).status).toBe(303);
  });

  it('locks the instance once many addresses were locked out; the owner gets in with the passphrase reset mailed to the instance', async () => {
    // two addresses were locked out above; eight more lock the whole instance
    for (let n = 1; n <= 8; n++) await guessUntilLocked(`192.0.2.${n}`);
    const owner = '203.0.113.50';
    const refused = await login(owner, good);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(800);
    // the way in while locked: the reset link mailed to the instance's address
    expect((await postForm('/auth/passphrase_reset', owner, {})).status).toBe(200);
    const dir = outboxDir(h.dataDir);
    const mails = ((await listOutbox(dir)) ?? []).filter((m) => m.domain === h.domain);
    expect(mails).toHaveLength(1);
    const text = readMail(await readOutboxMail(dir, mails[0]!.id)).text ?? '';
    const token = /\/auth\/passphrase_renew\?token=([0-9a-f]{32})/.exec(text)?.[1];
    expect(token).toBeTruthy();
    const renewed = await derivePassphrase('a new owner passphrase', h.domain, ITER);
    const set = await postForm('/auth/passphrase_renew', owner, { token: token!, passphrase: renewed, iterations: String(ITER) });
    expect(set.status).toBe(303);
    expect((await login(owner, renewed)).status).toBe(303);
    // the strangers' addresses stay locked out
    expect((await login('192.0.2.8', renewed)).status).toBe(429);
    expect((await login('198.51.100.7', renewed)).status).toBe(429);
  });
});
