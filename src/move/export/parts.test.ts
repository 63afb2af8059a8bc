/** The part-size rule and the cut into parts (cozy-stack model/move), the cursors a download accepts, the mails' languages. */
import { describe, expect, it } from 'vitest';
import { GIB, PartSplitter, partOf, partSize } from './parts.js';
import { exportFailedMail, exportReadyMail } from './mail.js';

describe('parts', () => {
  it('part size: the asked size from the minimum up, else min × √(usage / min) above it, else the minimum', () => {
    expect(partSize(2 * GIB, 0)).toBe(2 * GIB);
    expect(partSize(100, 0)).toBe(GIB);
    expect(partSize(undefined, 4 * GIB)).toBe(2 * GIB);
    expect(partSize(undefined, 16 * GIB)).toBe(4 * GIB);
    expect(partSize(undefined, 1000, 100)).toBe(Math.floor(100 * Math.sqrt(10)));
  });

  it('fills parts greedily in id order, the versions continuing the last part; a file larger than a part gets one alone', () => {
    const s = new PartSplitter(100);
    for (const [id, size] of [['a', 60], ['b', 30], ['c', 20], ['d', 250], ['e', 10]] as const) s.add('io.cozy.files', id, size);
    s.add('io.cozy.files.versions', 'a/1', 95);
    expect(s.cursors).toEqual(['io.cozy.files/c', 'io.cozy.files/d', 'io.cozy.files/e', 'io.cozy.files.versions/a/1']);
  });

  it('a download names its part by one of the export\'s own cursors only', () => {
    const cursors = ['io.cozy.files/c', 'io.cozy.files.versions/a/1'];
    expect(partOf(cursors, undefined)).toEqual({ number: 0, start: { doctype: 'io.cozy.files', id: '' }, end: { doctype: 'io.cozy.files', id: 'c' } });
    expect(partOf(cursors, 'io.cozy.files/c')).toEqual({ number: 1, start: { doctype: 'io.cozy.files', id: 'c' }, end: { doctype: 'io.cozy.files.versions', id: 'a/1' } });
    expect(partOf(cursors, 'io.cozy.files.versions/a/1').end).toBeNull();
    expect(() => partOf(cursors, 'io.cozy.files/b')).toThrow('cursor is invalid');
  });
});

describe('mails', () => {
  it('in the instance\'s language, the link clickable in HTML and escaped', () => {
    const en = exportReadyMail({ locale: 'en' }, 'https://alice-settings.example.org/#/exports/abc', '2026-12-14T01:00:00.000Z');
    expect(en.subject).toBe('Your data is ready to be downloaded');
    expect(en.parts[0]!.body).toContain('https://alice-settings.example.org/#/exports/abc');
    expect(en.parts[1]!.body).toContain('<a href="https://alice-settings.example.org/#/exports/abc">');
    const fr = exportReadyMail({ locale: 'fr' }, 'https://x/#/exports/a', '2026-12-14T01:00:00.000Z');
    expect(fr.subject).toBe('Vos données sont prêtes à être téléchargées');
    expect(fr.parts[0]!.body).toContain('14 décembre 2026');
    const failed = exportFailedMail({ locale: 'fr-FR' }, 'disk <full>');
    expect(failed.subject).toBe("L'export de vos données a échoué");
    expect(failed.parts[1]!.body).toContain('disk &#60;full&#62;');
  });
});
