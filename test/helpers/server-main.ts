/**
 * A Hearth server in its own process, for crash tests: `node <its bundle
 * (test/helpers/child-script.ts)> <dataDir>`. Prints one JSON line {port, domain, token}. With HEARTH_WAIT_GO set, it waits
 * for a line on stdin before it opens the data directory (test/helpers/crash.ts crashChain).
 */
import { pino } from 'pino';
import type { AddressInfo } from 'node:net';
import { createHearth } from '../../src/server/compose.js';
import { testConfig } from './hearth.js';

const dataDir = process.argv[2];
if (!dataDir) throw new Error('usage: server-main.ts <dataDir> [port]');
// HEARTH_WAIT_GO: spawned ahead (its modules loaded meanwhile), it opens the data directory once told to on stdin
if (process.env.HEARTH_WAIT_GO) {
  await new Promise<void>((go) => {
    process.stdin.once('data', () => go());
    process.stdin.once('end', () => process.exit(0));
  });
  process.stdin.destroy();
}
const config = testConfig(dataDir);
// the tests that kill this process and let another take its installs over (install-crash-pg) shorten their lease
if (process.env.HEARTH_APPS_INTENT_LEASE_SECONDS) config.apps.intentLeaseSeconds = Number(process.env.HEARTH_APPS_INTENT_LEASE_SECONDS);
const hearth = await createHearth(config, pino({ level: 'silent' }));
await hearth.publicApp.listen({ host: '127.0.0.1', port: Number(process.argv[3] ?? 0) });
const port = (hearth.publicApp.server.address() as AddressInfo).port;
const domain = `localhost:${port}`;
const instance = (await hearth.registry.get(domain)) ?? (await hearth.registry.create({ domain }));
const token = await hearth.tokens.issue(instance, { aud: 'cli', sub: 'crash', scope: 'io.cozy.crash io.cozy.files' });
process.stdout.write(JSON.stringify({ port, domain, token }) + '\n');
process.on('SIGTERM', () => void hearth.close().then(() => process.exit(0)));
