/** The README's HAProxy example (docs/examples/haproxy.cfg) is valid, balances over the processes and skips a dead one. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { startHaproxy } from '../helpers/servers/haproxy.js';

const servers: Server[] = [];
async function backend(name: string): Promise<{ port: number; server: Server }> {
  const server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ name, url: req.url, forwarded: req.headers['x-forwarded-for'] ?? null }));
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, server };
}

afterAll(() => servers.forEach((s) => s.close()));

describe('docs/examples/haproxy.cfg', () => {
  it('spreads requests over every process, forwards the client address, and stops sending to a process that died', async () => {
    const a = await backend('a');
    const b = await backend('b');
    const proxy = await startHaproxy([a.port, b.port]);
    try {
      const seen = new Set<string>();
      for (let i = 0; i < 10; i++) {
        const body = (await (await fetch(`${proxy.url}/data/x`)).json()) as { name: string; forwarded: string | null };
        seen.add(body.name);
        expect(body.forwarded).toBe('127.0.0.1');
      }
      expect([...seen].sort()).toEqual(['a', 'b']);
      a.server.closeAllConnections();
      await new Promise((r) => a.server.close(r));
      // every request succeeds: refused connections are retried on the live process, then the health check removes it
      for (let i = 0; i < 10; i++) {
        const res = await fetch(`${proxy.url}/version`);
        expect(res.status).toBe(200);
        expect(((await res.json()) as { name: string }).name).toBe('b');
      }
    } finally {
      await proxy.stop();
    }
  });
});
