/** GET /status against a real server: every dependency checked for real, and real failures. */
import { existsSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { describe, expect, it } from 'vitest';
import { DEFAULTS } from '../config/schema.js';
import { rawRequest, startTestHearth } from '../../test/helpers/hearth.js';
import { cachedCheck } from './status-checks.js';

const LATENCY = /^\d+\.\d{3}ms$/;
const listen = (server: Server | SMTPServer['server']) => new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
const smtpConfig = (port: number) => ({ mail: { ...structuredClone(DEFAULTS.mail), mode: 'smtp' as const, host: '127.0.0.1', port } });

describe('GET /status', () => {
  it('checks the registry, the file system, the jobs, the sessions and a docs database, on any host', async () => {
    const h = await startTestHearth();
    try {
      const res = await h.req('GET', '/status', { host: 'unknown.example.org' });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ status: 'OK', message: 'OK', registry: 'healthy', fs: 'healthy', jobs: 'healthy', sessions: 'healthy', docs: 'healthy' });
      for (const dep of ['registry', 'fs', 'jobs', 'sessions', 'docs']) expect(res.body.latency[dep]).toMatch(LATENCY);
      // the outbox is no relay: nothing to check
      expect(res.body).not.toHaveProperty('smtp');
    } finally {
      await h.close();
    }
  });

  it('samples another instance once the sampled one is destroyed, without reopening its database', async () => {
    const h = await startTestHearth();
    try {
      expect((await h.req('GET', '/status')).body.docs).toBe('healthy');
      await h.hearth.registry.destroy(h.domain);
      expect(existsSync(join(h.dataDir, 'instances', h.instance.id))).toBe(false);
      const res = await h.req('GET', '/status', { host: h.otherDomain });
      expect(res.body).toMatchObject({ status: 'OK', docs: 'healthy' });
      expect(existsSync(join(h.dataDir, 'instances', h.instance.id))).toBe(false);
      expect(existsSync(join(h.dataDir, 'instances', h.other.id, 'docs.sqlite'))).toBe(true);
    } finally {
      await h.close();
    }
  });

  it('answers 502 KO naming the dependency when the jobs database is closed, on both ports', async () => {
    const h = await startTestHearth();
    try {
      await h.hearth.jobs.engine.broker.close();
      const res = await h.req('GET', '/status');
      expect(res.status).toBe(502);
      expect(res.body).toMatchObject({ status: 'KO', message: 'jobs is unhealthy', registry: 'healthy', sessions: 'healthy', docs: 'healthy' });
      expect(res.body.jobs).toMatch(/^unhealthy: .*not open/);
      expect(res.body.latency.jobs).toMatch(LATENCY);
      const admin = await h.hearth.adminApp.inject({ url: '/status', headers: { authorization: 'Basic ' + Buffer.from('admin:admin-secret').toString('base64') } });
      expect(admin.statusCode).toBe(502);
      expect(admin.json()).toMatchObject({ status: 'KO', jobs: expect.stringMatching(/^unhealthy/) });
    } finally {
      await h.close();
    }
  });

  it('answers 502 naming fs when the data directory is gone (root ignores permissions: it is removed instead)', async () => {
    const h = await startTestHearth();
    try {
      rmSync(h.dataDir, { recursive: true, force: true });
      const res = await h.req('GET', '/status');
      expect(res.status).toBe(502);
      expect(res.body).toMatchObject({ status: 'KO', message: 'fs is unhealthy' });
      expect(res.body.fs).toMatch(/^unhealthy: ENOENT/);
    } finally {
      await h.close();
    }
  });

  it('names every failing dependency: sessions closed too', async () => {
    const h = await startTestHearth();
    try {
      await h.hearth.jobs.engine.broker.close();
      await h.hearth.sessions.close();
      const res = await h.req('HEAD', '/status');
      expect(res.status).toBe(502);
      const body = (await h.req('GET', '/status')).body;
      expect(body.message).toBe('jobs, sessions are unhealthy');
      expect(body.sessions).toMatch(/^unhealthy: /);
    } finally {
      await h.close();
    }
  });

  it('checks the SMTP relay when mail goes through one: healthy, then refused (closed port)', async () => {
    const smtp = new SMTPServer({ disabledCommands: ['STARTTLS', 'AUTH'], logger: false });
    const port = await listen(smtp.server);
    const h = await startTestHearth(smtpConfig(port));
    try {
      const res = await h.req('GET', '/status');
      expect(res.status).toBe(200);
      expect(res.body.smtp).toBe('healthy');
      expect(res.body.latency.smtp).toMatch(LATENCY);
    } finally {
      await h.close();
      await new Promise<void>((resolve) => smtp.close(() => resolve()));
    }
    const dead = await startTestHearth(smtpConfig(port));
    try {
      const res = await dead.req('GET', '/status');
      expect(res.status).toBe(502);
      expect(res.body.message).toBe('smtp is unhealthy');
      expect(res.body.smtp).toMatch(new RegExp(`^unhealthy: cannot reach the SMTP server 127\\.0\\.0\\.1:${port}`));
    } finally {
      await dead.close();
    }
  });

  it('gives up on a relay that accepts the connection but never greets, within its short timeout', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((s) => sockets.push(s));
    const port = await listen(silent);
    const h = await startTestHearth(smtpConfig(port));
    try {
      const res = await h.req('GET', '/status');
      expect(res.status).toBe(502);
      expect(res.body.smtp).toMatch(/^unhealthy: .*(Greeting never received|did not answer|timeout)/i);
      expect(res.body).toMatchObject({ jobs: 'healthy', registry: 'healthy' });
    } finally {
      await h.close();
      sockets.forEach((s) => s.destroy());
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('admin /status needs the admin passphrase', async () => {
    const h = await startTestHearth();
    try {
      await h.hearth.adminApp.listen({ host: '127.0.0.1', port: 0 });
      const port = (h.hearth.adminApp.server.address() as AddressInfo).port;
      expect((await rawRequest(port, 'GET', '/status', { host: `127.0.0.1:${port}` })).status).toBe(401);
    } finally {
      await h.close();
    }
  });
});

describe('cachedCheck', () => {
  it('serves its last result for the TTL, then the stale one while it checks again', async () => {
    let clock = 0;
    let calls = 0;
    let failing = false;
    const check = cachedCheck('dep', async () => {
      calls++;
      if (failing) throw new Error('down');
      return 1.5;
    }, 1000, () => clock);
    expect(await check.check()).toBe(1.5);
    failing = true;
    clock = 999;
    expect(await check.check()).toBe(1.5);
    expect(calls).toBe(1);
    clock = 1000;
    // stale: answered from the cache at once, a new probe runs behind
    expect(await check.check()).toBe(1.5);
    expect(calls).toBe(2);
    await new Promise((resolve) => setImmediate(resolve));
    await expect(check.check()).rejects.toThrow('down');
    expect(calls).toBe(2);
  });

  it('shares one probe between concurrent first checks', async () => {
    let calls = 0;
    const check = cachedCheck('dep', async () => {
      calls++;
      await new Promise((resolve) => setTimeout(resolve, 10));
      return 2;
    }, 1000);
    expect(await Promise.all([check.check(), check.check(), check.check()])).toEqual([2, 2, 2]);
    expect(calls).toBe(1);
  });
});
