/** The export archive's entry names (layout.ts): what cozy-stack writes, read back, and the names that try to escape. */
import { describe, expect, it } from 'vitest';
import { docEntry, fileContentEntry, parseDataEntry, parseFileEntry, partZipName, versionContentEntry } from './layout.js';

describe('export archive layout', () => {
  it('names entries as cozy-stack does and reads them back', () => {
    expect(docEntry('io.cozy.contacts', 'abc')).toBe('My Cozy/Data/io.cozy.contacts/abc.json');
    expect(docEntry('io.cozy.apps', 'io.cozy.apps/drive')).toBe('My Cozy/Data/io.cozy.apps/io.cozy.apps/drive.json');
    expect(fileContentEntry('/Documents/a b.pdf')).toBe('My Cozy/Files/Documents/a b.pdf');
    expect(versionContentEntry('f1/2-ab')).toBe('My Cozy/Files/f1/2-ab');
    expect(partZipName(3)).toBe('My Cozy - part003.zip');
    expect(parseDataEntry('My Cozy/Data/instance.json')).toEqual({ kind: 'instance' });
    expect(parseDataEntry('My Cozy/Data/avatar')).toEqual({ kind: 'avatar' });
    expect(parseDataEntry('My Cozy/Data/wallpaper')).toEqual({ kind: 'wallpaper' });
    expect(parseDataEntry('My Cozy/Data/io.cozy.apps/io.cozy.apps/drive.json')).toEqual({ kind: 'doc', doctype: 'io.cozy.apps', id: 'io.cozy.apps/drive' });
    expect(parseDataEntry(docEntry('io.cozy.bank.operations', 'x_1'))).toEqual({ kind: 'doc', doctype: 'io.cozy.bank.operations', id: 'x_1' });
    expect(parseFileEntry('My Cozy/Files/Documents/a b.pdf')).toBe('/Documents/a b.pdf');
    expect(parseDataEntry('My Cozy/Files/x')).toBeNull();
    expect(parseDataEntry('My Cozy/Data/io.cozy.files/')).toBeNull();
  });

  it('refuses names that try to leave their folder', () => {
    for (const bad of ['My Cozy/Data/io.cozy.x/../../etc.json', 'My Cozy/Data/io.cozy.x/a\\b.json', 'My Cozy/Data/x.json', 'My Cozy/Data/io.cozy.x/.json', 'My Cozy/Data/%E0%A4%A/x.json', 'My Cozy/Data/io.cozy.x/a\0.json']) {
      expect(parseDataEntry(bad)).toMatchObject({ kind: 'invalid' });
    }
    for (const bad of ['My Cozy/Files/../x', 'My Cozy/Files//etc/passwd', 'My Cozy/Files/a/./b', 'My Cozy/Files/a\\..\\b', '/etc/passwd', 'My Cozy/Files/']) {
      expect(parseFileEntry(bad)).toBeNull();
    }
  });
});
