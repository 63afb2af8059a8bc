/** Recovery codes on a real server: how many are left, renewed with the passphrase (the old ones stop working), refusals. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type Res, type TestHearth } from '../../test/helpers/hearth.js';
import { totp } from '../../test/helpers/totp.js';
import { derivePassphrase } from './passphrase.js';
import { useRecoveryCode } from './twofactor/recovery.js';

const ITER = 1000;
let h: TestHearth;
let good: string;
let cookie = '';
beforeAll(async () => {
  h = await startTestHearth();
  good = await derivePassphrase('owner-pass', h.domain, ITER);
  h.instance = await h.hearth.registry.setDerivedPassphrase(h.instance, good, ITER);
  const login = await h.req('POST', '/auth/login', { body: { passphrase: good } });
  cookie = ([login.headers['set-cookie'] ?? []].flat().find((c) => c.startsWith('cozysessid=')) ?? '').split(';')[0] as string;
});
afterAll(() => h.close());

const send = (method: string, path: string, body?: unknown, headers: Record<string, string> = { cookie }): Promise<Res> => h.req(method, path, { headers, ...(body === undefined ? {} : { body }) });
const left = async () => (await send('GET', '/settings/twofactor/recovery_codes')).body.recovery_codes_left;

describe('recovery codes', () => {
  it('counts none without an authenticator app, and cannot be renewed then', async () => {
    expect(await left()).toBe(0);
    const r = await send('POST', '/settings/twofactor/recovery_codes', { passphrase: good });
    expect(r.status).toBe(409);
  });

  it('counts what is left, and renews them all with the passphrase: the old codes stop working', async () => {
    const { secret } = (await send('POST', '/settings/twofactor/totp', {})).body;
    const confirmed = await send('POST', '/settings/twofactor/totp/confirm', { code: totp(secret, Date.now()) });
    const old: string[] = confirmed.body.recovery_codes;
    expect(await left()).toBe(old.length);

    const wrong = await send('POST', '/settings/twofactor/recovery_codes', { passphrase: await derivePassphrase('nope', h.domain, ITER) });
    expect(wrong.status).toBe(422);
    expect((await send('POST', '/settings/twofactor/recovery_codes', {})).status).toBe(400);
    const token = await h.cliToken('io.cozy.settings:GET');
    expect((await send('POST', '/settings/twofactor/recovery_codes', { passphrase: good }, { authorization: `Bearer ${token}` })).status).toBe(403);

    const renewed = await send('POST', '/settings/twofactor/recovery_codes', { passphrase: good });
    expect(renewed.status).toBe(200);
    expect(renewed.headers['cache-control']).toBe('no-store');
    const codes: string[] = renewed.body.recovery_codes;
    expect(codes).toHaveLength(old.length);
    expect(codes.some((c) => old.includes(c))).toBe(false);
    const hashes = (await (h.hearth.registry as unknown as { twoFactor(i: unknown): Promise<{ recoveryHashes: string[] }> }).twoFactor(h.instance)).recoveryHashes;
    expect(hashes).toHaveLength(codes.length);
    expect((await useRecoveryCode(old[0]!, hashes)).ok).toBe(false);
    expect((await useRecoveryCode(codes[0]!, hashes)).ok).toBe(true);
    const kinds = (await send('GET', '/settings/security-events?page[limit]=1')).body.data.map((e: { attributes: { kind: string } }) => e.attributes.kind);
    expect(kinds).toEqual(['recovery_codes_renewed']);
  });
});
