/**
 * The code of route schemas compiled ahead of time, one CommonJS module a schema (server/schema-code.ts says how the
 * server finds and loads them). Validators: Ajv's standalone code, from the very Ajv options the server compiles them
 * with (server/validation.ts). Serializers: fast-json-stringify's standalone mode, with the validators its unions need
 * inlined (else it would build an Ajv at run time). The output depends only on the schemas and the compilers'
 * versions: the same sources give the same files.
 */
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import standaloneCode from 'ajv/dist/standalone/index.js';
import fastJson from 'fast-json-stringify';
import type { JsonSchema } from '../common/schemas.js';
import { codeKey, type CodeKind } from './schema-code.js';
import { ajvFor } from './validation.js';

/** The standalone module of one schema. */
export function schemaModule(kind: CodeKind, schema: JsonSchema): string {
  if (kind === 'serializer') {
    return fastJson(schema as fastJson.AnySchema, { mode: 'standalone', inlineValidators: true });
  }
  const ajv = ajvFor(kind, true);
  return standaloneCode.default(ajv, ajv.compile(schema));
}

/** The modules of the given schemas, by file name (one per distinct schema). */
export function schemaModules(schemas: Iterable<{ kind: CodeKind; schema: JsonSchema }>): Map<string, string> {
  const modules = new Map<string, string>();
  for (const { kind, schema } of schemas) {
    const key = codeKey(kind, schema);
    if (!modules.has(key)) modules.set(key, schemaModule(kind, schema));
  }
  return modules;
}

/** Writes the modules into `outDir`, replacing what it held (written beside, then renamed). */
export function writeSchemaModules(outDir: string, modules: Map<string, string>): void {
  mkdirSync(dirname(outDir), { recursive: true });
  const next = mkdtempSync(`${outDir}.next-`);
  for (const [name, code] of modules) writeFileSync(join(next, name), code);
  rmSync(outDir, { recursive: true, force: true });
  renameSync(next, outDir);
}

