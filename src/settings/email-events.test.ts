/**
 * The change of the owner's e-mail address as security events, on a real server with the server's state on SQLite and
 * on PostgreSQL: asked (POST /settings/email), mailed again (resend), given up (DELETE), confirmed (the link) and set by
 * the CLI (PUT /settings/instance), each with its old and new addresses masked, listed by GET /settings/security-events.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS } from '../config/schema.js';
import { startTestHearth, type TestHearth } from '../../test/helpers/hearth.js';
import { startPgState, type PgStateServer } from '../../test/helpers/pg-state.js';
import { startTestSmtp, type TestSmtp } from '../../test/helpers/smtp.js';
import { derivePassphrase } from '../auth/passphrase.js';

let smtp: TestSmtp;
let pg: PgStateServer;
beforeAll(async () => {
  [smtp, pg] = await Promise.all([startTestSmtp(), startPgState()]);
});
afterAll(async () => {
  await smtp.close();
  await pg.close();
});

interface Ev { kind: string; ip: string | null; user_agent: string | null; detail?: { from?: string | null; to?: string | null } }

describe.each(['SQLite', 'PostgreSQL'])('e-mail change events, state on %s', (engine) => {
  let h: TestHearth;
  let token = '';
  let cookie = '';
  let passphrase = '';
  beforeAll(async () => {
    const docs = engine === 'PostgreSQL' ? { docs: { ...DEFAULTS.docs, engine: 'postgres' as const, url: await pg.database(), poolSize: 3 } } : {};
    h = await startTestHearth({ mail: smtp.config, ...docs });
    await h.hearth.registry.modify(h.domain, { email: 'alice@example.org' });
    await h.hearth.perms.grantApp(h.instance, 'settings', 'io.cozy.settings');
    const app = await h.hearth.appToken(h.instance, 'settings');
    token = app.token;
    cookie = `cozysessid=${app.session_cookie}`;
    passphrase = await derivePassphrase('owner-pass', h.domain, h.instance.kdfIterations);
  });
  afterAll(() => h.close());

  const call = (method: string, path: string, body?: unknown) =>
    h.req(method, path, { token, headers: { cookie, 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0' }, ...(body === undefined ? {} : { body }) });
  const events = async (): Promise<Ev[]> => (await call('GET', '/settings/security-events')).body.data.map((e: { attributes: Ev }) => e.attributes);
  /** The path of the confirmation link last mailed to `to`. */
  async function linkTo(to: string, count: number): Promise<string> {
    const mails = () => smtp.received.filter((m) => m.to.includes(to));
    for (let i = 0; i < 200 && mails().length < count; i++) await new Promise((r) => setTimeout(r, 25));
    const link = /https?:\/\/\S+\/settings\/email\/confirm\?token=[0-9a-f]+/.exec(mails().at(-1)?.mail.text ?? '')?.[0];
    if (!link) throw new Error(`no confirmation link mailed to ${to}`);
    return new URL(link).pathname + new URL(link).search;
  }

  it('records the request, the resend and the cancellation, never the full addresses', async () => {
    const to = `bob.${engine.toLowerCase()}@example.net`;
    expect((await call('POST', '/settings/email', { passphrase: 'wrong', email: to })).status).toBe(400);
    expect(await events()).toEqual([]); // a refused request changes nothing
    expect((await call('POST', '/settings/email', { passphrase, email: to })).status).toBe(204);
    await linkTo(to, 1);
    expect((await call('POST', '/settings/email/resend')).status).toBe(204);
    expect((await call('DELETE', '/settings/email')).status).toBe(204);
    expect((await call('DELETE', '/settings/email')).status).toBe(204); // nothing pending: nothing happened, no event
    const list = await events();
    expect(list.map((e) => [e.kind, e.detail])).toEqual([
      ['email_change_cancelled', { to: 'b***@example.net' }],
      ['email_change_resent', { to: 'b***@example.net' }],
      ['email_change_requested', { from: 'a***@example.org', to: 'b***@example.net' }],
    ]);
    expect(list[2]).toMatchObject({ ip: expect.stringContaining('127.0.0.1'), user_agent: expect.stringContaining('Firefox/128.0') });
    expect(JSON.stringify(list)).not.toContain('alice@');
    expect(JSON.stringify(list)).not.toContain(to);
  });

  it('records the confirmed change, by the link or by the CLI', async () => {
    expect((await call('POST', '/settings/email', { passphrase, email: 'carol@example.com' })).status).toBe(204);
    const link = await linkTo('carol@example.com', 1);
    expect((await h.req('GET', link, { headers: { cookie } })).status).toBe(307);
    expect((await h.req('GET', link, { headers: { cookie } })).status).toBe(400); // used: no second event
    const cli = await h.cliToken('io.cozy.settings');
    const rev = (await h.req('GET', '/settings/instance', { token: cli })).body.data.meta.rev as string;
    const put = await h.req('PUT', '/settings/instance', {
      token: cli, headers: { 'content-type': 'application/vnd.api+json' },
      body: { data: { type: 'io.cozy.settings', id: 'io.cozy.settings.instance', meta: { rev }, attributes: { email: 'dave@example.io' } } },
    });
    expect(put.status, put.text).toBe(200);
    expect((await events()).slice(0, 3).map((e) => [e.kind, e.detail])).toEqual([
      ['email_changed', { from: 'c***@example.com', to: 'd***@example.io' }],
      ['email_changed', { from: 'a***@example.org', to: 'c***@example.com' }],
      ['email_change_requested', { from: 'a***@example.org', to: 'c***@example.com' }],
    ]);
  });
});
