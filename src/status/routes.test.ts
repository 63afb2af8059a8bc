import { describe, expect, it } from 'vitest';
import { runStatus, versionInfo } from './routes.js';
import { startTestHearth } from '../../test/helpers/hearth.js';

describe('status and version', () => {
  it('reports each dependency with its latency, on any host', async () => {
    const h = await startTestHearth();
    try {
      const res = await h.req('GET', '/status', { host: 'unknown.example.org' });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ status: 'OK', registry: 'healthy', fs: 'healthy' });
      expect(res.body.latency.registry).toMatch(/^\d+\.\d+ms$/);
      const version = await h.req('GET', '/version');
      expect(version.body).toMatchObject({ version: expect.any(String), runtime_version: process.version });
      const head = await h.req('HEAD', '/status');
      expect(head.status).toBe(200);
    } finally {
      await h.close();
    }
  });

  it('answers /status/ and /version/ with the trailing slash too, on any host, on the public port', async () => {
    const h = await startTestHearth();
    try {
      const status = await h.req('GET', '/status/', { host: 'unknown.example.org' });
      expect(status.status).toBe(200);
      expect(status.body).toMatchObject({ status: 'OK', registry: 'healthy' });
      expect((await h.req('HEAD', '/status/')).status).toBe(200);
      const version = await h.req('GET', '/version/', { host: 'unknown.example.org' });
      expect(version.status).toBe(200);
      expect(version.body).toEqual(versionInfo(false));
      expect((await h.req('HEAD', '/version/')).status).toBe(200);
    } finally {
      await h.close();
    }
  });

  it('answers KO with the failing dependency', async () => {
    const report = await runStatus([
      { name: 'ok', check: async () => 1 },
      { name: 'db', check: async () => { throw new Error('connection refused'); } },
    ]);
    expect(report.status).toBe('KO');
    expect(report.db).toBe('unhealthy: connection refused');
    expect(report.ok).toBe('healthy');
  });
});
