/** The address of an instance in the links built outside a request (COZY_URL, notification mails). */
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { testConfig } from '../../test/helpers/hearth.js';
import { createHearth } from './compose.js';
import { publicUrl } from './workers.js';

describe('publicUrl', () => {
  it('is http for every loopback name, IPv6 included, https otherwise', () => {
    const url = (domain: string) => publicUrl({ domain, aliases: [] });
    expect(url('[::1]:9000')).toBe('http://[::1]:9000');
    expect(url('localhost:9000')).toBe('http://localhost:9000');
    expect(url('hearth.localhost:8080')).toBe('http://hearth.localhost:8080');
    expect(url('127.0.0.1:9000')).toBe('http://127.0.0.1:9000');
    expect(url('alice.example.org')).toBe('https://alice.example.org');
    expect(url('[2001:db8::1]:9000')).toBe('https://[2001:db8::1]:9000');
  });

  it('names the port the server listens on when the instance answers there (a dev instance restarted on another port)', () => {
    const dev = { domain: 'hearth.localhost:8080', aliases: ['localhost:8080', 'hearth.localhost:9090', 'localhost:9090'] };
    expect(publicUrl(dev, 9090)).toBe('http://hearth.localhost:9090');
    expect(publicUrl(dev, 8080)).toBe('http://hearth.localhost:8080');
    // not an address of this instance: its own name stays
    expect(publicUrl(dev, 7070)).toBe('http://hearth.localhost:8080');
    expect(publicUrl({ domain: 'alice.example.org', aliases: [] }, 443)).toBe('https://alice.example.org');
  });

  it('is what the server uses, with the port its public app listens on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hearth-links-'));
    const hearth = await createHearth(testConfig(dir), pino({ level: 'silent' }));
    try {
      await hearth.publicApp.listen({ host: '127.0.0.1', port: 0 });
      const { port } = hearth.publicApp.server.address() as AddressInfo;
      const instance = await hearth.registry.create({ domain: 'hearth.localhost:1', aliases: [`hearth.localhost:${port}`] });
      expect(hearth.publicUrl(instance)).toBe(`http://hearth.localhost:${port}`);
    } finally {
      await hearth.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
