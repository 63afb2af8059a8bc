/**
 * Early refusals reach a client that is still sending its body, and a 431 closes its connection
 * properly (server/linger.ts): a real server in its own process (in the test's own process the
 * client's writes and the server's reads take turns, and the resets do not show), real sockets on
 * loopback, a 5 MB body written in 16 KiB pieces as clients do.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, stopServer, type Started } from '../../test/helpers/crash.js';

let h: Started;
let dataDir: string;
beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'hearth-linger-'));
  h = await startServer(dataDir);
}, 60_000);
afterAll(async () => {
  await stopServer(h);
  rmSync(dataDir, { recursive: true, force: true });
});

const BODY = Buffer.alloc(5 * 1024 * 1024, 0x61);

/** POSTs the 5 MB body as a client does (in pieces, waiting for the socket); the status read, or the socket error. */
function send(path: string, headers: Record<string, string>, opts: { agent?: Agent; chunked?: boolean } = {}): Promise<number | string> {
  return new Promise((resolve) => {
    const all = { host: h.domain, ...headers, ...(opts.chunked ? {} : { 'content-length': String(BODY.length) }) };
    const r = request({ host: '127.0.0.1', port: h.port, method: 'POST', path, headers: all, agent: opts.agent ?? false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    });
    r.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    let off = 0;
    const write = () => {
      while (off < BODY.length) {
        const piece = BODY.subarray(off, off + 16 * 1024);
        off += piece.length;
        if (!r.write(piece)) return void r.once('drain', write);
      }
      r.end();
    };
    write();
  });
}

async function tenTimes(path: string, headers: Record<string, string>, opts: { agent?: Agent; chunked?: boolean } = {}): Promise<Array<number | string>> {
  const out: Array<number | string> = [];
  for (let i = 0; i < 10; i++) out.push(await send(path, headers, opts));
  return out;
}

describe('an early refusal reaches a client still sending 5 MB', () => {
  it('413 from the Content-Length, and 413 of a chunked body over the limit', async () => {
    // the login form takes 16 KiB at most
    const headers = { 'content-type': 'application/x-www-form-urlencoded' };
    expect(await tenTimes('/auth/login', headers)).toEqual(Array(10).fill(413));
    expect(await tenTimes('/auth/login', headers, { chunked: true })).toEqual(Array(10).fill(413));
  });

  it('404 for a host with no instance, and for no route', async () => {
    expect(await tenTimes('/data/io.cozy.notes/', { host: 'nowhere.example.org', 'content-type': 'application/json' })).toEqual(Array(10).fill(404));
    expect(await tenTimes('/no/such/route', { 'content-type': 'application/octet-stream' })).toEqual(Array(10).fill(404));
  });

  it('401 for an upload without a token, also on a keep-alive connection', async () => {
    const path = '/files/io.cozy.files.root-dir?Type=file&Name=a.bin';
    const headers = { 'content-type': 'application/octet-stream' };
    expect(await tenTimes(path, headers)).toEqual(Array(10).fill(401));
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      expect(await tenTimes(path, headers, { agent })).toEqual(Array(10).fill(401));
    } finally {
      agent.destroy();
    }
  });
});

describe('431 request headers too large', () => {
  it('says Connection: close, sends the whole answer and closes without a reset', async () => {
    const sock = connect(h.port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const outcome = await new Promise<string>((resolve) => {
      sock.on('data', (c: Buffer) => chunks.push(c));
      sock.on('end', () => resolve('end'));
      sock.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
      sock.write(`GET /status HTTP/1.1\r\nHost: ${h.domain}\r\nX-Big: ${'b'.repeat(64 * 1024)}\r\n\r\n`);
    });
    sock.destroy();
    expect(outcome).toBe('end');
    const text = Buffer.concat(chunks).toString();
    expect(text).toMatch(/^HTTP\/1\.1 431 /);
    expect(text.toLowerCase()).toContain('connection: close');
    expect(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)).errors[0].detail).toBe('the request headers are too large');
  });

  it('does not break the next request of a keep-alive client', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const get = (headers: Record<string, string>) => new Promise<number | string>((resolve) => {
      const r = request({ host: '127.0.0.1', port: h.port, path: '/status', headers: { host: h.domain, ...headers }, agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      r.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
      r.end();
    });
    try {
      for (let i = 0; i < 5; i++) {
        expect(await get({})).toBe(200);
        expect(await get({ 'x-big': 'b'.repeat(64 * 1024) })).toBe(431);
        expect(await get({})).toBe(200);
      }
    } finally {
      agent.destroy();
    }
  });
});
