/**
 * `npm run build`'s compilation of the route schemas (scripts/precompile-schemas.mjs runs it on the built code): a
 * server composed as `hearth serve` composes it (the defaults, in a temporary data folder, listening nowhere), and the
 * code of every schema its two apps declare (server/schema-modules.ts), which server/schema-code.ts loads.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { DEFAULTS } from '../config/schema.js';
import type { HearthConfig } from '../config/types.js';
import type { JsonSchema } from '../common/schemas.js';
import { createHearth } from './compose.js';
import type { CodeKind } from './schema-code.js';
import { schemaModules, writeSchemaModules } from './schema-modules.js';

/** The schemas of the server `hearth serve` composes with `overrides` on the defaults. */
export async function serverSchemas(overrides: Partial<HearthConfig> = {}): Promise<Array<{ kind: CodeKind; schema: JsonSchema }>> {
  const dataDir = mkdtempSync(join(tmpdir(), 'hearth-schemas-'));
  const d = structuredClone(DEFAULTS);
  const config: HearthConfig = {
    ...d, dataDir, server: { ...d.server, port: 0 }, admin: { ...d.admin, port: 0 }, log: { ...d.log, level: 'silent' },
    mail: { ...d.mail, mode: 'outbox' }, apps: { ...d.apps, builtinRegistry: null }, ...overrides,
  };
  const hearth = await createHearth(config, pino({ level: 'silent' }));
  try {
    await Promise.all([hearth.publicApp.ready(), hearth.adminApp.ready()]);
    return [...hearth.publicApp.appSchemas, ...hearth.adminApp.appSchemas].map(({ kind, schema }) => ({ kind, schema }));
  } finally {
    await hearth.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Compiles the schemas of the server (as `hearth serve` and `hearth serve --dev` compose it) into `outDir`. */
export async function precompileSchemas(outDir: string): Promise<{ files: number; bytes: number }> {
  const schemas = [...(await serverSchemas()), ...(await serverSchemas({ dev: true }))];
  const modules = schemaModules(schemas);
  writeSchemaModules(outDir, modules);
  return { files: modules.size, bytes: [...modules.values()].reduce((n, code) => n + Buffer.byteLength(code), 0) };
}
