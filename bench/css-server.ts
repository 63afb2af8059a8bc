/**
 * Community Solid Server (npm @solid/community-server, pinned in bench/package.json) for the files
 * benchmark, in this process through its AppRunner API, as its CLI does, with bench/css-config.json: the
 * shipped `@css:config/file-root.json` (resources as plain files on disk under <dir>/data, WAC authorization
 * with a root ACL that gives everyone full access, so no authentication) with resource locks that expire
 * after 10 minutes instead of 6 s (see that file), on 127.0.0.1 at a free port, its log at level `warn`
 * (no line per request). `node bench/css-server.js <dir> <bench dir> [<config>]` (the shipped config is
 * `@css:config/file-root.json`); prints one JSON line {port, version, config}.
 */
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';

/* eslint-disable @typescript-eslint/no-explicit-any */
const dir = process.argv[2];
const benchDir = process.argv[3];
if (!dir || !benchDir) throw new Error('usage: css-server.ts <dir> <bench dir>');
const require = createRequire(join(resolve(benchDir), 'package.json'));
const { AppRunner } = require('@solid/community-server') as { AppRunner: new () => any };
const version = String((require('@solid/community-server/package.json') as { version: string }).version);

// CSS builds its base URL from the port, so it needs a fixed one: ask the OS for a free port first
const port = await new Promise<number>((ok, fail) => {
  const probe = createServer();
  probe.once('error', fail);
  probe.listen(0, '127.0.0.1', () => {
    const p = (probe.address() as { port: number }).port;
    probe.close(() => ok(p));
  });
});
const config = process.argv[4] ?? join(resolve(benchDir), 'css-config.json');
const app = await new AppRunner().create({
  config,
  shorthand: { port, baseUrl: `http://127.0.0.1:${port}/`, rootFilePath: join(dir, 'data'), loggingLevel: 'warn' },
});
await app.start();
process.stdout.write(JSON.stringify({ port, version, config }) + '\n');
process.on('SIGTERM', () => {
  setTimeout(() => process.exit(0), 3000).unref();
  void app.stop().then(() => process.exit(0), () => process.exit(0));
});
