import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminApp, type AdminFixture } from '../cli/testing/admin-fixture.js';
import { main } from '../main.js';
import { captureStdio } from '../../test/helpers/stdio.js';

const auth = { authorization: 'Basic ' + Buffer.from('admin:admin-secret').toString('base64') };
const domains = ['a.example.net', 'b.example.net', 'c.example.net', 'd.example.net', 'e.example.net'];
let fx: AdminFixture;
let env: Record<string, string>;
const io = captureStdio();

beforeAll(async () => {
  fx = await adminApp();
  for (const domain of domains) await fx.registry.create({ domain, ...(domain === 'c.example.net' ? { aliases: ['c2.example.net', 'c1.example.net'] } : {}) });
  env = { HEARTH_ADMIN_URL: await fx.app.listen({ host: '127.0.0.1', port: 0 }), HEARTH_ADMIN_PASSPHRASE: 'admin-secret' };
});
afterAll(() => fx.app.close());

describe('GET /instances pages', () => {
  it('by domain, page[limit] at a time, with a link to the next page and the total count', async () => {
    const seen: string[] = [];
    let url: string | undefined = '/instances?page[limit]=2';
    let pages = 0;
    while (url) {
      const res: { statusCode: number; body: string } = await fx.app.inject({ url, headers: auth });
      expect(res.statusCode).toBe(200);
      const body = JSON.parse(res.body) as { data: Array<{ attributes: { domain: string } }>; meta: { count: number }; links: { next?: string } };
      expect(body.data.length).toBeLessThanOrEqual(2);
      expect(body.meta.count).toBe(5);
      seen.push(...body.data.map((d) => d.attributes.domain));
      url = body.links.next;
      pages++;
    }
    expect(seen).toEqual(domains);
    expect(pages).toBe(3);
    const c = (await fx.app.inject({ url: '/instances?page[limit]=1&page[cursor]=b.example.net', headers: auth })).json();
    expect(c.data[0].attributes.domain_aliases).toEqual(['c1.example.net', 'c2.example.net']);
  });

  it('refuses a page size out of bounds', async () => {
    for (const limit of ['0', '1001', 'abc', '-1', '2.5']) {
      const res = await fx.app.inject({ url: `/instances?page[limit]=${limit}`, headers: auth });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ error: 'bad_request', reason: 'page[limit] must be a whole number from 1 to 1000' });
    }
  });
});

describe('hearth instances ls', () => {
  it('shows one page and says how to get the next; --all follows every page', async () => {
    expect(await main(['instances', 'ls', '--limit', '2'], env)).toBe(0);
    expect(io.stdout.match(/\.example\.net/g)).toHaveLength(3); // two rows and the hint
    expect(io.stdout).toMatch(/\nMore: hearth instances ls --after b\.example\.net \(or --all\)\n$/);
    io.stdout = '';
    expect(await main(['instances', 'ls', '--after', 'b.example.net', '--limit', '2', '--json'], env)).toBe(0);
    expect((JSON.parse(io.stdout) as Array<{ attributes: { domain: string } }>).map((d) => d.attributes.domain)).toEqual(['c.example.net', 'd.example.net']);
    io.stdout = '';
    expect(await main(['instances', 'ls', '--all', '--limit', '2', '--json'], env)).toBe(0);
    expect((JSON.parse(io.stdout) as Array<{ attributes: { domain: string } }>).map((d) => d.attributes.domain)).toEqual(domains);
  });

  it('refuses a bad --limit', async () => {
    expect(await main(['instances', 'ls', '--limit', '0'], env)).not.toBe(0);
    expect(io.stderr).toMatch(/expected a whole number from 1 to 1000/);
  });
});
