/** The address policy of the calls between servers (net.ts): what a move or an import may reach. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { lookupFor, refusedLiteral } from './net.js';
import { callPeer } from './transfer/peer.js';

const resolve = (allowPrivate: boolean, host: string) => new Promise<string>((ok, ko) => lookupFor(allowPrivate)(host, {}, (err, address) => (err ? ko(err) : ok(String(address)))));

describe('the addresses a move or an import may reach', () => {
  it('resolves localhost names to loopback only when private addresses are allowed, and refuses private literals otherwise', async () => {
    expect(await resolve(true, 'alice.move.localhost')).toBe('127.0.0.1');
    expect(await resolve(true, 'LOCALHOST.')).toBe('127.0.0.1');
    await expect(resolve(false, 'alice.localhost')).rejects.toThrow(/private address/);
    await expect(resolve(false, 'localhost')).rejects.toThrow(/private address/);
    expect(refusedLiteral('127.0.0.1', false)).toMatch(/private address/);
    expect(refusedLiteral('[::1]', false)).toMatch(/private address/);
    expect(refusedLiteral('10.1.2.3', false)).toMatch(/private address/);
    expect(refusedLiteral('::ffff:192.168.0.1', false)).toMatch(/private address/);
    expect(refusedLiteral('127.0.0.1', true)).toBeNull();
    expect(refusedLiteral('93.184.216.34', false)).toBeNull();
  });

  it('a move\'s call to another server on a private address is refused, by name and by address, unless allowed', async () => {
    let calls = 0;
    const server = createServer((_req, res) => {
      calls++;
      res.writeHead(303, { location: '/move/importing' }).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    try {
      await expect(callPeer(`http://127.0.0.1:${port}/move/imports`, { allowPrivate: false })).rejects.toThrow(/private address/);
      await expect(callPeer(`http://target.localhost:${port}/move/imports`, { allowPrivate: false })).rejects.toThrow(/private address/);
      expect(calls).toBe(0);
      // allowed: the 303 is followed on the same origin only
      const answer = await callPeer(`http://target.localhost:${port}/move/imports`, { allowPrivate: true });
      expect(answer.status).toBe(303);
      expect(calls).toBe(1);
      await expect(callPeer(`http://target.localhost:${port}/move/imports`, { allowPrivate: true, follow: true })).resolves.toMatchObject({ status: 303 });
    } finally {
      server.close();
    }
  });
});
