/**
 * A Hearth server in its own process for the export crash test: `node <its bundle (test/helpers/child-script.ts)>
 * <dataDir> <port> hold|run`. Prints {port, domain, token} once it listens; with `hold`, an export job stops after
 * recording its io.cozy.exports document and prints {exporting: id} (the test then kills the process with -9).
 */
import { pino } from 'pino';
import type { AddressInfo } from 'node:net';
import { createHearth } from '../../src/server/compose.js';
import { testConfig } from './hearth.js';

const [dataDir, port = '0', mode = 'run'] = process.argv.slice(2);
if (!dataDir) throw new Error('usage: export-crash-child.ts <dataDir> <port> hold|run');
const hold = async (_instance: unknown, doc: { _id: string }) => {
  process.stdout.write(JSON.stringify({ exporting: doc._id }) + '\n');
  await new Promise(() => undefined);
};
const hearth = await createHearth(testConfig(dataDir), pino({ level: 'silent' }), { exports: { sweepMs: 300, ...(mode === 'hold' ? { beforeMeasure: hold } : {}) } });
await hearth.publicApp.listen({ host: '127.0.0.1', port: Number(port) });
const listening = (hearth.publicApp.server.address() as AddressInfo).port;
const domain = `localhost:${listening}`;
const instance = (await hearth.registry.get(domain)) ?? (await hearth.registry.create({ domain }));
const token = await hearth.tokens.issue(instance, { aud: 'cli', sub: 'crash', scope: 'io.cozy.exports io.cozy.files' });
process.stdout.write(JSON.stringify({ port: listening, domain, token }) + '\n');
process.on('SIGTERM', () => void hearth.close().then(() => process.exit(0)));
