/**
 * The links an import accepts (the settings link of a Cozy, nested and flat, or the export's own URL; nothing but
 * http(s)) and the addresses it refuses to fetch: loopback, private and link-local ones unless imports.allowPrivateUrls,
 * checked on the address the name resolves to when connecting; sizes bounded.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchJson, manifestUrlOf, partUrlOf } from './fetch.js';

describe('export links', () => {
  it('turns a settings link into the export document URL, nested and flat, and keeps the export URL', () => {
    expect(manifestUrlOf('https://settings.alice.mycozy.cloud/#/exports/AbC_-9')).toBe('https://alice.mycozy.cloud/move/exports/AbC_-9');
    expect(manifestUrlOf('https://alice-settings.mycozy.cloud/#/exports/AbC')).toBe('https://alice.mycozy.cloud/move/exports/AbC');
    expect(manifestUrlOf('http://settings.localhost:8080/#/exports/X')).toBe('http://localhost:8080/move/exports/X');
    expect(manifestUrlOf('https://alice.example.org/move/exports/X')).toBe('https://alice.example.org/move/exports/X');
    expect(partUrlOf('https://alice.example.org/move/exports/X', 'io.cozy.files/abc')).toBe('https://alice.example.org/move/exports/data/X?cursor=io.cozy.files%2Fabc');
  });

  it('refuses what is not such a link', () => {
    for (const bad of ['ftp://settings.a.b/#/exports/X', 'file:///etc/passwd', 'not a url', 'https://u:p@settings.a.b/#/exports/X', 'https://drive.a.b/#/exports/X', 'https://settings.a.b/#/other/X', 'https://settings.a.b/#/exports/../x']) {
      expect(() => manifestUrlOf(bad), bad).toThrow(/not usable/);
    }
  });
});

describe('fetching', () => {
  let server: Server;
  let port: number;
  beforeAll(async () => {
    server = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(req.url === '/big' ? JSON.stringify({ pad: 'x'.repeat(5000) }) : '{"ok":true}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('refuses loopback addresses unless allowed, by name and by address', async () => {
    const policy = { allowPrivate: false, timeoutMs: 10_000 };
    await expect(fetchJson(`http://127.0.0.1:${port}/`, policy)).rejects.toThrow(/private address/);
    await expect(fetchJson(`http://localhost:${port}/`, policy)).rejects.toThrow(/private address/);
    expect(await fetchJson(`http://127.0.0.1:${port}/`, { ...policy, allowPrivate: true })).toEqual({ ok: true });
  });

  it('bounds the size of what it reads', async () => {
    await expect(fetchJson(`http://127.0.0.1:${port}/big`, { allowPrivate: true, timeoutMs: 10_000 }, 1000)).rejects.toThrow(/larger than 1000 bytes/);
  });
});
