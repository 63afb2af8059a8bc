import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULTS } from '../../config/schema.js';
import type { HearthConfig } from '../../config/types.js';
import { parseScope, rulesFromMap } from '../../permissions/rules.js';
import { PermanentJobError } from '../types.js';
import { loadKonnector, loadService, permissionsOf } from './manifests.js';

let dir: string;
let config: HearthConfig;
const konnector = (slug: string, manifest: unknown) => {
  mkdirSync(join(dir, slug), { recursive: true });
  writeFileSync(join(dir, slug, 'manifest.konnector'), typeof manifest === 'string' ? manifest : JSON.stringify(manifest));
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hearth-manifests-'));
  config = { ...structuredClone(DEFAULTS), jobs: { ...DEFAULTS.jobs, konnectorsDir: dir, appsDir: dir } };
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('manifests', () => {
  it('reads a konnector manifest, main defaulting to index.js', () => {
    konnector('good', { slug: 'good', name: 'Good', type: 'konnector', language: 'node', parameters: { a: 1 }, permissions: { b: { type: 'io.cozy.bills', verbs: ['GET', 'POST'] } } });
    const m = loadKonnector(config, 'good');
    expect(m).toMatchObject({ slug: 'good', name: 'Good', entry: 'index.js', codeDir: join(dir, 'good'), parameters: { a: 1 }, scope: 'io.cozy.bills:GET,POST' });
  });

  it('keeps the rules of the manifest through the grant scope', () => {
    const perms = { a: { type: 'io.cozy.files', verbs: ['GET'], values: ['dir-1', 'dir-2'] }, b: { type: 'io.cozy.bills' }, c: { type: 'io.cozy.accounts', verbs: ['GET'], values: ['sample'], selector: 'account_type' } };
    const strip = (rules: ReturnType<typeof rulesFromMap>) => rules.map(({ description: _d, ...r }) => r);
    expect(parseScope(permissionsOf(perms, 'x').scope)).toEqual(strip(rulesFromMap(perms)));
    expect(() => permissionsOf({ a: { type: 'io.cozy.files', values: ['a b'] } }, 'x')).toThrow(PermanentJobError);
    expect(() => permissionsOf({ a: { type: 'not a doctype' } }, 'x')).toThrow(PermanentJobError);
  });

  it('refuses bad slugs, paths leaving the code dir, and says where it looked', () => {
    for (const slug of ['../etc', 'UPPER', '', 'a'.repeat(65), 42]) expect(() => loadKonnector(config, slug)).toThrow(/invalid konnector slug/);
    for (const main of ['../other/index.js', '/../../etc/passwd', 'lib/../../x.js']) {
      konnector('escape', { main });
      expect(() => loadKonnector(config, 'escape')).toThrow(/leaves the code directory/);
    }
    konnector('slash', { main: '/lib/index.js' });
    expect(loadKonnector(config, 'slash').entry).toBe(join('lib', 'index.js'));
    expect(() => loadKonnector(config, 'missing')).toThrow(`no ${join(dir, 'missing', 'manifest.konnector')}`);
    konnector('broken', '{nope');
    expect(() => loadKonnector(config, 'broken')).toThrow(/not valid JSON/);
    konnector('liar', { slug: 'someone-else' });
    expect(() => loadKonnector(config, 'liar')).toThrow(/names the slug/);
    expect(() => loadKonnector({ ...config, jobs: { ...config.jobs, konnectorsDir: null } }, 'good')).toThrow(/set jobs\.konnectorsDir/);
  });

  it('reads an app service from manifest.webapp', () => {
    mkdirSync(join(dir, 'app'), { recursive: true });
    writeFileSync(join(dir, 'app', 'manifest.webapp'), JSON.stringify({ permissions: { b: { type: 'io.cozy.bills', verbs: ['GET'] } }, services: { sum: { type: 'node', file: '/services/sum.js', trigger: '@daily' } } }));
    expect(loadService(config, 'app', 'sum')).toMatchObject({ slug: 'app', service: 'sum', entry: join('services', 'sum.js'), trigger: '@daily', scope: 'io.cozy.bills:GET' });
    expect(() => loadService(config, 'app', 'toString')).toThrow(/declares no service/);
    expect(() => loadService(config, 'app', undefined)).toThrow(/needs the service "name"/);
  });
});
