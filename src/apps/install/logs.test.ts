/** POST /apps/:slug/logs: an app's lines reach the server log under its slug; refusals. */
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHearth, type Hearth } from '../../server/compose.js';
import type { Instance } from '../../instances/types.js';
import { rawRequest, testConfig } from '../../../test/helpers/hearth.js';

let hearth: Hearth;
let port: number;
let instance: Instance;
let dir: string;
const lines: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hearth-logs-'));
  const sink = new Writable({ write(chunk: Buffer, _enc, cb) {
    for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
    cb();
  } });
  hearth = await createHearth(testConfig(dir), pino({ level: 'debug' }, sink));
  await hearth.publicApp.listen({ host: '127.0.0.1', port: 0 });
  port = (hearth.publicApp.server.address() as AddressInfo).port;
  instance = await hearth.registry.create({ domain: `localhost:${port}` });
});
afterAll(async () => {
  await hearth.close();
  rmSync(dir, { recursive: true, force: true });
});

const post = (slug: string, token: string, body: unknown, headers: Record<string, string> = {}) =>
  rawRequest(port, 'POST', `/apps/${slug}/logs?job_id=j1&version=1.2.3`, { host: `localhost:${port}`, token, body, headers });

describe('POST /apps/:slug/logs', () => {
  it('logs each line at its level, under the slug of the app token that sent it', async () => {
    await hearth.perms.setAppPermissions(instance, 'app', 'drive', { logs: { type: 'io.cozy.apps.logs', verbs: ['POST'] } });
    const { token, session_cookie } = await hearth.appToken(instance, 'drive');
    const res = await post('other', token, [{ timestamp: '2026-01-01T00:00:00Z', level: 'warning', msg: 'disk almost full' }, { level: 'critical', msg: 'gave up' }], { cookie: `cozysessid=${session_cookie}` });
    expect(res.status).toBe(204);
    expect(lines.find((l) => l.msg === 'disk almost full')).toMatchObject({ level: 40, app: 'drive', job_id: 'j1', version: '1.2.3', timestamp: '2026-01-01T00:00:00Z' });
    expect(lines.find((l) => l.msg === 'gave up')).toMatchObject({ level: 60, app: 'drive' });
  });

  it('refuses a bad level (422), a token without the right (403), no token (401)', async () => {
    const cli = await hearth.tokens.issue(instance, { aud: 'cli', sub: 't', scope: 'io.cozy.apps.logs' });
    expect((await post('notes', cli, [{ level: 'loud', msg: 'x' }])).status).toBe(422);
    expect((await post('notes', cli, [{ level: 'info', msg: 'from the cli' }])).status).toBe(204);
    expect(lines.find((l) => l.msg === 'from the cli')).toMatchObject({ app: 'notes' });
    const other = await hearth.tokens.issue(instance, { aud: 'cli', sub: 't', scope: 'io.cozy.contacts' });
    expect((await post('notes', other, [{ level: 'info', msg: 'x' }])).status).toBe(403);
    expect((await rawRequest(port, 'POST', '/apps/notes/logs', { host: `localhost:${port}`, body: [] })).status).toBe(401);
  });
});
