import { describe, expect, it } from 'vitest';
import { docFetcher, parseScope, Permissions, rulesFromMap, type PermissionSet } from './rules.js';

const set = (scope: string): PermissionSet => ({ type: 'cli', sourceId: null, rules: parseScope(scope) });

describe('permission rules', () => {
  it('parses the scope-string form', () => {
    expect(parseScope('io.cozy.files io.cozy.jobs:POST:sendmail:worker io.cozy.contacts:GET,PUT:a,b')).toEqual([
      { type: 'io.cozy.files' },
      { type: 'io.cozy.jobs', verbs: ['POST'], values: ['sendmail'], selector: 'worker' },
      { type: 'io.cozy.contacts', verbs: ['GET', 'PUT'], values: ['a', 'b'] },
    ]);
    expect(parseScope('io.cozy.notes:ALL')).toEqual([{ type: 'io.cozy.notes', verbs: [] }]);
  });

  it('refuses bad scopes', () => {
    expect(() => parseScope('io.cozy.notes:FLY')).toThrow(/invalid verb/);
    expect(() => parseScope('IO.COZY')).toThrow(/invalid permission type/);
    expect(() => parseScope('io.*')).toThrow(/three dots/);
  });

  it('checks verbs (HEAD implied by GET), whole types and values', () => {
    const s = set('io.cozy.notes:GET io.cozy.contacts:GET,DELETE:id1');
    expect(Permissions.allowsWholeType(s, 'GET', 'io.cozy.notes')).toBe(true);
    expect(Permissions.allowsWholeType(s, 'HEAD', 'io.cozy.notes')).toBe(true);
    expect(Permissions.allowsWholeType(s, 'POST', 'io.cozy.notes')).toBe(false);
    expect(Permissions.allowsWholeType(s, 'GET', 'io.cozy.contacts')).toBe(false);
    expect(Permissions.allowsDoc(s, 'DELETE', 'io.cozy.contacts', docFetcher({ _id: 'id1' }))).toBe(true);
    expect(Permissions.allowsDoc(s, 'DELETE', 'io.cozy.contacts', docFetcher({ _id: 'id2' }))).toBe(false);
    expect(Permissions.allowsDoc(s, 'GET', 'io.cozy.files', docFetcher({ _id: 'id1' }))).toBe(false);
    // some right on the doctype, whatever its values (a /data route's first check, before the document is read)
    expect(Permissions.allowsSome(s, 'DELETE', 'io.cozy.contacts')).toBe(true);
    expect(Permissions.allowsSome(s, 'HEAD', 'io.cozy.contacts')).toBe(true);
    expect(Permissions.allowsSome(s, 'PUT', 'io.cozy.contacts')).toBe(false);
    expect(Permissions.allowsSome(s, 'GET', 'io.cozy.files')).toBe(false);
    expect(Permissions.allowsSome({ type: 'owner', sourceId: null, rules: [] }, 'PUT', 'io.cozy.files')).toBe(true);
  });

  it('matches a selector on another field, and wildcard doctypes', () => {
    const s = set('io.cozy.jobs:POST:sendmail:worker io.cozy.bank.*:GET');
    expect(Permissions.allowsDoc(s, 'POST', 'io.cozy.jobs', docFetcher({ _id: 'x', worker: 'sendmail' }))).toBe(true);
    expect(Permissions.allowsDoc(s, 'POST', 'io.cozy.jobs', docFetcher({ _id: 'x', worker: 'konnector' }))).toBe(false);
    expect(Permissions.allowsWholeType(s, 'GET', 'io.cozy.bank.accounts')).toBe(true);
    expect(Permissions.allowsWholeType(s, 'GET', 'io.cozy.bankaccounts')).toBe(false);
    expect(Permissions.allowsWholeType(s, 'GET', 'io.cozy.bank')).toBe(false);
  });

  it('reads the manifest map form and compares sets', () => {
    const rules = rulesFromMap({ contacts: { type: 'io.cozy.contacts', verbs: ['GET'], description: 'read' } });
    expect(rules).toEqual([{ type: 'io.cozy.contacts', verbs: ['GET'], description: 'read' }]);
    expect(Permissions.isSubset(parseScope('io.cozy.contacts:GET:a'), set('io.cozy.contacts:GET'))).toBe(true);
    expect(Permissions.isSubset(parseScope('io.cozy.contacts'), set('io.cozy.contacts:GET'))).toBe(false);
  });
});
