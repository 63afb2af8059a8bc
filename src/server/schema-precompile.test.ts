/**
 * The build's compilation of the route schemas (`npm run build` runs precompileSchemas into dist/schemas): every
 * validator and serializer of every route of a running server comes from it, none is compiled on the event loop.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type TestHearth } from '../../test/helpers/hearth.js';
import { compiledCode } from './schema-code.js';
import { precompileSchemas } from './schema-precompile.js';

let h: TestHearth;
const dir = join(mkdtempSync(join(tmpdir(), 'hearth-schemas-test-')), 'schemas');
let built: { files: number; bytes: number };
beforeAll(async () => {
  built = await precompileSchemas(dir);
  h = await startTestHearth({}, { schemaCode: compiledCode(dir) });
}, 60_000);
afterAll(async () => {
  await h?.close();
  rmSync(join(dir, '..'), { recursive: true, force: true });
});

describe('route schemas compiled by the build', () => {
  it('has the code of every schema of every route of both ports: none is compiled at run time', () => {
    expect(readdirSync(dir)).toHaveLength(built.files);
    for (const app of [h.hearth.publicApp, h.hearth.adminApp]) {
      app.compileSchemas();
      expect(app.schemaStats, 'a route schema the build did not compile (server/schema-precompile.ts composes the server)').toEqual({ loaded: app.appSchemas.length, compiled: 0 });
    }
    expect(h.hearth.publicApp.appSchemas.length).toBeGreaterThan(300);
  });

  it('validates and serializes with that code as the run-time compilation does', async () => {
    const token = await h.cliToken('io.cozy.settings');
    const refusals: Array<[Record<string, unknown>, RegExp]> = [[{ locale: 'klingon' }, /^"locale" must be one of en, fr/], [{ tz: 'Mars/Olympus' }, /IANA time zone/]];
    for (const [attributes, detail] of refusals) {
      const doc = { data: { type: 'io.cozy.settings', id: 'io.cozy.settings.instance', meta: { rev: '1-x' }, attributes } };
      const res = await h.req('PUT', '/settings/instance', { token, body: doc });
      expect([res.status, res.body.errors]).toEqual([400, [{ status: '400', title: 'bad_request', detail: expect.stringMatching(detail) }]]);
    }
    const got = await h.req('GET', '/settings/instance', { token });
    expect(got.status).toBe(200);
    expect(got.body.data).toMatchObject({ type: 'io.cozy.settings', id: 'io.cozy.settings.instance', attributes: { locale: expect.any(String) } });
    expect((await h.req('GET', '/status')).body).toMatchObject({ status: 'OK' });
  });
});
