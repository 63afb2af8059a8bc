/**
 * Hearth serving one web app for bench/apps-serve.bench.ts: `apps-server.js <dir> <appDir>`, instance `localhost:<port>`
 * with an owner session, the app installed as the installer leaves it (its document in the instance's store, state ready,
 * a checksum) with its code read from `<appDir>` (a folder AppFileSource standing for the code store, which is another
 * part of the issue). Prints one JSON line {port, host, cookie}.
 */
import { pino } from 'pino';
import type { AddressInfo } from 'node:net';
import { createHearth } from '../src/server/compose.js';
import { SESSION_COOKIE, sessionCookieValue } from '../src/auth/sessions.js';
import { testConfig } from '../test/helpers/hearth.js';
import { FolderFileSource } from '../src/apps/serve/folder-source.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const [dataDir, appDir] = process.argv.slice(2);
if (!dataDir || !appDir) throw new Error('usage: apps-server.ts <dataDir> <appDir>');
const config = testConfig(dataDir);
const hearth = await createHearth(config, pino({ level: 'silent' }), { appFiles: new FolderFileSource(new Map([['bench', appDir]])) });
await hearth.publicApp.listen({ host: '127.0.0.1', port: 0 });
const port = (hearth.publicApp.server.address() as AddressInfo).port;
const domain = `localhost:${port}`;
const instance = await hearth.registry.create({ domain, passphrase: 'bench' });
const manifest = JSON.parse(readFileSync(join(appDir, 'manifest.webapp'), 'utf8')) as Record<string, unknown>;
const now = new Date().toISOString();
await hearth.storeOf(instance).put('io.cozy.apps', {
  ...manifest, _id: 'io.cozy.apps/bench', slug: 'bench', source: 'registry://bench/stable', state: 'ready', version: '1.0.0',
  checksum: 'a'.repeat(64), created_at: now, updated_at: now,
});
await hearth.perms.grant(instance, 'app', 'bench', null);
const session = await hearth.sessions.create(instance, { userAgent: 'bench', ip: null });
const cookie = `${SESSION_COOKIE}=${sessionCookieValue((await hearth.registry.secrets(instance)).session, session.id)}`;
process.stdout.write(JSON.stringify({ port, host: `bench.${domain}`, cookie }) + '\n');
process.on('SIGTERM', () => void hearth.close().then(() => process.exit(0)));
