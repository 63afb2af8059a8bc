/**
 * A Hearth server in its own process for the import's kill -9 test: `node <its bundle> <dataDir> [port]`
 * (test/helpers/child-script.ts), imports from loopback allowed. Prints one JSON line {port, domain, token} (a CLI token that passes
 * the gate of a blocked instance, with rights on io.cozy.imports, io.cozy.files and io.cozy.notes). The instance's mail
 * goes to the outbox of <dataDir>.
 */
import { pino } from 'pino';
import type { AddressInfo } from 'node:net';
import { createHearth } from '../../src/server/compose.js';
import { testConfig } from './hearth.js';

const dataDir = process.argv[2];
if (!dataDir) throw new Error('usage: import-crash-child.ts <dataDir> [port]');
const hearth = await createHearth(testConfig(dataDir, { imports: { allowPrivateUrls: true } }), pino({ level: 'silent' }));
await hearth.publicApp.listen({ host: '127.0.0.1', port: Number(process.argv[3] ?? 0) });
const port = (hearth.publicApp.server.address() as AddressInfo).port;
const domain = `localhost:${port}`;
const instance = (await hearth.registry.get(domain)) ?? (await hearth.registry.create({ domain, email: 'owner@example.net' }));
const token = await hearth.tokens.issue(instance, { aud: 'cli', sub: 'crash', scope: 'io.cozy.imports io.cozy.files io.cozy.notes' });
process.stdout.write(JSON.stringify({ port, domain, token }) + '\n');
process.on('SIGTERM', () => void hearth.close().then(() => process.exit(0)));
