/** The update rule of the permissions (cozy-apps.md §4.5): what needs the owner's acknowledgement, what survives. */
import { describe, expect, it } from 'vitest';
import { manifestRules, needsAck, rulesAfterUpdate } from './permissions.js';

const m = (permissions: Record<string, unknown>, terms?: string) => ({ slug: 'x', permissions, ...(terms ? { terms: { version: terms } } : {}) }) as never;
const contacts = { type: 'io.cozy.contacts', verbs: ['GET'] };

describe('needsAck', () => {
  it('is false for the same rules, whatever their descriptions and key names', () => {
    expect(needsAck('webapp', m({ a: contacts }), m({ b: { ...contacts, description: 'read them' } }))).toBe(false);
  });
  it('is true for an added rule, a changed verb, or new terms', () => {
    expect(needsAck('webapp', m({ a: contacts }), m({ a: contacts, b: { type: 'io.cozy.files' } }))).toBe(true);
    expect(needsAck('webapp', m({ a: contacts }), m({ a: { type: 'io.cozy.contacts', verbs: ['GET', 'POST'] } }))).toBe(true);
    expect(needsAck('webapp', m({ a: contacts }, '1'), m({ a: contacts }, '2'))).toBe(true);
  });
  it('lets a konnector add carbon copy and electronic safe rules, not a web app', () => {
    const next = m({ a: contacts, cc: { type: 'io.cozy.certified.carbon_copy' }, es: { type: 'io.cozy.certified.electronic_safe' } });
    expect(needsAck('konnector', m({ a: contacts }), next)).toBe(false);
    expect(needsAck('webapp', m({ a: contacts }), next)).toBe(true);
  });
});

describe('rulesAfterUpdate', () => {
  it('takes the new manifest\'s rules and keeps those added after install', () => {
    const added = { type: 'io.cozy.notes' };
    expect(rulesAfterUpdate({ a: contacts, old: { type: 'io.cozy.files' } }, { a: contacts, b: { type: 'io.cozy.photos.albums' } }, { a: contacts, old: { type: 'io.cozy.files' }, extra: added }))
      .toEqual({ a: contacts, b: { type: 'io.cozy.photos.albums' }, extra: added });
  });
  it('never lets a kept rule replace one of the new manifest under the same key', () => {
    expect(rulesAfterUpdate({}, { k: contacts }, { k: { type: 'io.cozy.files' } })).toEqual({ k: contacts });
  });
});

describe('manifestRules', () => {
  it('refuses rules the permission layer cannot read (400)', () => {
    expect(() => manifestRules(m({ a: { type: 'Not A Doctype!' } }))).toThrow(/permissions are invalid/);
    expect(() => manifestRules({ slug: 'x', permissions: [] } as never)).toThrow(/map of rules/);
  });
});
