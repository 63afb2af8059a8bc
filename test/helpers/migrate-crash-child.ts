/**
 * Child of the migration crash test: `node <its bundle (test/helpers/child-script.ts)> <dataDir> <dirB> <domain> <step>`.
 * Opens the Hearth of `dataDir` with the second engines of `dirB`, starts moving `domain` to them, and when the
 * migration reports `step` (for `copy`: once documents were copied) prints `at <step>` and waits there to be killed.
 */
import { pino } from 'pino';
import { createHearth } from '../../src/server/compose.js';
import { testConfig } from './hearth.js';
import { B, secondEngines } from './migrate-engines.js';

const [dataDir, dirB, domain, step] = process.argv.slice(2);
if (!dataDir || !dirB || !domain || !step) throw new Error('usage: migrate-crash-child.ts <dataDir> <dirB> <domain> <step>');
const hearth = await createHearth(testConfig(dataDir), pino({ level: 'silent' }), { extraEngines: secondEngines(dirB) });
const instance = await hearth.registry.get(domain);
if (!instance) throw new Error(`no instance ${domain}`);
await hearth.migrations.migrate(instance, B, async (p) => {
  if (p.step !== step || (step === 'copy' && p.docs === 0)) return;
  process.stdout.write(`at ${step}\n`);
  await new Promise(() => setInterval(() => undefined, 1000));
});
process.stdout.write('finished\n');
