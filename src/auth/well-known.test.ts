/** /.well-known/change-password on a real server: the settings app's passphrase page, in both host modes. */
import { afterAll, describe, expect, it } from 'vitest';
import { startTestHearth, type TestHearth } from '../../test/helpers/hearth.js';

const started: TestHearth[] = [];
afterAll(() => Promise.all(started.map((h) => h.close())));

describe('/.well-known/change-password', () => {
  it('redirects (302) to <settings app>/#/profile/password, with GET and HEAD, without any credential', async () => {
    const h = await startTestHearth();
    started.push(h);
    for (const method of ['GET', 'HEAD']) {
      const res = await h.req(method, '/.well-known/change-password');
      expect(res.status).toBe(302);
      expect(res.headers.location).toBe(`http://settings.${h.domain}/#/profile/password`);
    }
    expect((await h.req('GET', '/.well-known/change-password', { host: h.otherDomain })).headers.location).toBe(`http://settings.${h.otherDomain}/#/profile/password`);
  });

  it('names the flat app host when apps.subdomains is flat, and is 404 on an unknown host', async () => {
    const h = await startTestHearth();
    started.push(h);
    const flat = await startTestHearth({ apps: { ...h.hearth.config.apps, subdomains: 'flat' } });
    started.push(flat);
    await flat.hearth.registry.create({ domain: `alice.hearth.test:${flat.port}` });
    const res = await flat.req('GET', '/.well-known/change-password', { host: `alice.hearth.test:${flat.port}` });
    expect(res.headers.location).toBe(`http://alice-settings.hearth.test:${flat.port}/#/profile/password`);
    expect((await h.req('GET', '/.well-known/change-password', { host: 'nobody.example.org' })).status).toBe(404);
  });
});
