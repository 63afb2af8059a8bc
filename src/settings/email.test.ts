/** The change of the owner's e-mail address (email-routes.ts) on a real server, its mails read from a real SMTP server. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type TestHearth } from '../../test/helpers/hearth.js';
import { startTestSmtp, type TestSmtp } from '../../test/helpers/smtp.js';
import { derivePassphrase } from '../auth/passphrase.js';
import type { DocEvent } from '../common/bus.js';

let h: TestHearth;
let smtp: TestSmtp;
let token = '';
let cookie = '';
let passphrase = '';
beforeAll(async () => {
  smtp = await startTestSmtp();
  h = await startTestHearth({ mail: smtp.config });
  await h.hearth.perms.grantApp(h.instance, 'settings', 'io.cozy.settings');
  const app = await h.hearth.appToken(h.instance, 'settings');
  token = app.token;
  cookie = `cozysessid=${app.session_cookie}`;
  passphrase = await derivePassphrase('owner-pass', h.domain, h.instance.kdfIterations);
});
afterAll(async () => {
  await h.close();
  await smtp.close();
});

const start = (body: unknown, t = token) => h.req('POST', '/settings/email', { token: t, body, headers: { cookie } });
const attributes = async () => (await h.req('GET', '/settings/instance', { token, headers: { cookie } })).body.data.attributes;
/** The confirmation link of the last mail sent to `to`. */
function linkTo(to: string): string {
  const mails = smtp.received.filter((m) => m.to.includes(to));
  const text = mails.at(-1)?.mail.text ?? '';
  const link = /https?:\/\/\S+\/settings\/email\/confirm\?token=[0-9a-f]+/.exec(text)?.[0];
  if (!link) throw new Error(`no confirmation link mailed to ${to}`);
  return new URL(link).pathname + new URL(link).search;
}
async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 25));
}

describe('POST /settings/email', () => {
  it('refuses a wrong passphrase (400 "Invalid passphrase") and sends nothing', async () => {
    const res = await start({ passphrase: await derivePassphrase('not-it', h.domain, h.instance.kdfIterations), email: 'new@example.org' });
    expect(res.status).toBe(400);
    expect(res.body.errors[0].detail).toBe('Invalid passphrase');
    expect((await attributes()).pending_email).toBeUndefined();
    expect(smtp.received).toHaveLength(0);
  });

  it('refuses an invalid address or a missing field (400, saying what to send)', async () => {
    const bad = await start({ passphrase, email: 'not an address' });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].detail).toContain('alice@example.org');
    expect((await start({ passphrase })).status).toBe(400);
  });

  it('refuses another instance\'s token (400), a token without POST on io.cozy.settings (403) and no credentials (401)', async () => {
    const other = await start({ passphrase, email: 'new@example.org' }, await h.cliToken('io.cozy.settings', h.other));
    expect(other.status).toBe(400);
    expect((await start({ passphrase, email: 'new@example.org' }, await h.cliToken('io.cozy.settings:GET'))).status).toBe(403);
    expect((await h.req('POST', '/settings/email', { body: { passphrase, email: 'new@example.org' } })).status).toBe(401);
  });

  it('mails a link to the new address; the address changes only when the link is opened, logged in', async () => {
    const res = await start({ passphrase, email: 'new@example.org' });
    expect(res.status).toBe(204);
    expect(await attributes()).toMatchObject({ email: null, pending_email: 'new@example.org' });
    await until(() => smtp.received.some((m) => m.to.includes('new@example.org')));
    const mail = smtp.received.find((m) => m.to.includes('new@example.org'))!;
    expect(mail.mail.subject).toBe('Confirm your email address');
    const link = linkTo('new@example.org');

    const anonymous = await h.req('GET', link);
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.location).toContain('/auth/login?redirect=');
    expect(decodeURIComponent(String(anonymous.headers.location))).toContain(link);

    const wrong = await h.req('GET', '/settings/email/confirm?token=0123456789abcdef0123456789abcdef', { headers: { cookie } });
    expect(wrong.status).toBe(400);
    expect(wrong.text).toContain('Your link is either expired or invalid');

    const revBefore = (await h.req('GET', '/settings/instance', { token, headers: { cookie } })).body.data.meta.rev as string;
    const events: DocEvent[] = [];
    const off = h.hearth.bus.subscribe(h.domain, 'io.cozy.settings', (e) => events.push(e));
    const ok = await h.req('GET', link, { headers: { cookie } });
    off();
    expect(ok.status).toBe(307);
    expect(ok.headers.location).toMatch(/^http:\/\/settings\.localhost:\d+\/$/);
    const after = (await h.req('GET', '/settings/instance', { token, headers: { cookie } })).body.data;
    expect(after.attributes.email).toBe('new@example.org');
    expect(after.attributes.pending_email).toBeUndefined();
    expect(after.meta.rev).not.toBe(revBefore);
    expect(events.at(-1)).toMatchObject({ verb: 'UPDATED', doc: { email: 'new@example.org', _rev: after.meta.rev } });
    expect((await h.hearth.registry.get(h.domain))?.email).toBe('new@example.org');
    expect((await h.req('GET', link, { headers: { cookie } })).status).toBe(400); // used once
  });

  it('mails a new link on resend (the old one stops working) and forgets the change on DELETE', async () => {
    expect((await h.req('POST', '/settings/email/resend', { token, headers: { cookie } })).status).toBe(400); // none pending
    expect((await start({ passphrase, email: 'third@example.org' })).status).toBe(204);
    await until(() => smtp.received.some((m) => m.to.includes('third@example.org')));
    const first = linkTo('third@example.org');
    const resend = await h.req('POST', '/settings/email/resend', { token, headers: { cookie } });
    expect(resend.status).toBe(204);
    await until(() => smtp.received.filter((m) => m.to.includes('third@example.org')).length === 2);
    const second = linkTo('third@example.org');
    expect(second).not.toBe(first);
    expect((await h.req('GET', first, { headers: { cookie } })).status).toBe(400);
    expect((await h.req('DELETE', '/settings/email', { token, headers: { cookie } })).status).toBe(204);
    expect((await attributes()).pending_email).toBeUndefined();
    expect((await h.req('GET', second, { headers: { cookie } })).status).toBe(400);
    expect((await attributes()).email).toBe('new@example.org');
    expect((await h.req('DELETE', '/settings/email', { token, headers: { cookie } })).status).toBe(204); // nothing pending: a no-op
  });
});
