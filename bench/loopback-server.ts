/**
 * The loopback references of the files benchmark: a bare node:http server (no framework, no disk).
 * `GET /blob?size=N` streams N bytes of bench/pattern.ts from memory (the same bytes the client
 * uploads elsewhere) in `chunk`-byte writes (default 64 KiB, Node's file-stream chunk) with
 * back-pressure; `PUT|POST /sink` reads a body and discards it, then answers 201 {"size": <bytes read>};
 * `GET /file?path=<file under the temp dir>` streams that file with fs.createReadStream (its default 64 KiB
 * reads) piped into the response: what bare Node does for a file download, without any framework.
 * `node bench/loopback-server.js <dir>`; prints one JSON line {port}.
 */
import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { pattern, patternSlice } from './pattern.js';

pattern();
const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (req.method === 'GET' && url.pathname === '/blob') {
    const size = Number(url.searchParams.get('size') ?? 0);
    const chunk = Number(url.searchParams.get('chunk') ?? 65536);
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(size) });
    let sent = 0;
    const pump = () => {
      while (sent < size) {
        const piece = patternSlice(sent, Math.min(chunk, size - sent));
        sent += piece.length;
        if (!res.write(piece)) return void res.once('drain', pump);
      }
      res.end();
    };
    pump();
    return;
  }
  if (req.method === 'GET' && url.pathname === '/file') {
    const path = resolve(url.searchParams.get('path') ?? '');
    if (!path.startsWith(tmpdir() + '/')) return void res.writeHead(403).end();
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(statSync(path).size) });
    createReadStream(path).pipe(res);
    return;
  }
  if ((req.method === 'PUT' || req.method === 'POST') && url.pathname === '/sink') {
    let size = 0;
    req.on('data', (c: Buffer) => (size += c.length));
    req.on('end', () => {
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ size }));
    });
    return;
  }
  res.writeHead(404).end();
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: (server.address() as AddressInfo).port }) + '\n');
});
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
