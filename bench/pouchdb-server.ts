/**
 * pouchdb-server 4.2.0 as its CLI builds it (bench/node_modules/pouchdb-server/lib/index.js):
 * express + express-pouchdb 4.2.0 in its default `fullCouchDB` mode (so `_find` via
 * pouchdb-find, auth, validation, security…) over PouchDB 7.3.1 with the LevelDB adapter,
 * storing under <dir>. Two differences from the CLI, both in its favour or neutral: the
 * config is in memory (no config.json), and the CouchDB-style log is at level `warning`
 * in <dir>/log.txt instead of one `info` line per request. Bound to 127.0.0.1, port 0.
 * `node bench/pouchdb-server.js <dir> [<bench dir>]` (compiled by data.bench.ts; the optional second
 * argument is where bench/node_modules is, when this file runs from elsewhere); prints one JSON line {port}.
 */
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';

/* eslint-disable @typescript-eslint/no-explicit-any */
const dir = process.argv[2];
if (!dir) throw new Error('usage: pouchdb-server.ts <dir> [<bench dir>]');
const benchDir = process.argv[3];
const require = createRequire(benchDir ? join(resolve(benchDir), 'package.json') : import.meta.url);

const express = require('express') as () => any;
const PouchDB = (require('pouchdb-core') as any)
  .plugin(require('pouchdb-adapter-http'))
  .plugin(require('pouchdb-replication'))
  .plugin(require('pouchdb-mapreduce'))
  .plugin(require('pouchdb-adapter-leveldb'));
const expressPouchDB = require('express-pouchdb') as (pouch: any, opts: Record<string, unknown>) => any;

const app = express();
const pouchApp = expressPouchDB(PouchDB.defaults({ prefix: resolve(dir) + '/' }), {
  mode: 'fullCouchDB',
  inMemoryConfig: true,
  logPath: join(dir, 'log.txt'),
});
await new Promise<void>((ok, fail) => pouchApp.couchConfig.set('log', 'level', 'warning', (err: unknown) => (err ? fail(err) : ok())));
app.use(pouchApp);
const server = await new Promise<Server>((ok) => {
  const s: Server = (app as any).listen(0, '127.0.0.1', () => ok(s));
});
process.stdout.write(JSON.stringify({ port: (server.address() as AddressInfo).port }) + '\n');
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
});
