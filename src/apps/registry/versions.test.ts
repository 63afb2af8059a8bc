import { describe, expect, it } from 'vitest';
import { HearthError } from '../../common/errors.js';
import { lazyUpdateChannel, lazyUpdateDecision } from './lazy-update.js';
import { channelOf, compareVersions, latestOn, parseRegistrySource, versionLists } from './versions.js';

const v = (version: string, created_at = '2026-01-01T00:00:00Z') => ({ version, created_at });

describe('channels and version order', () => {
  it('tells the channel of each form and refuses the others', () => {
    expect(channelOf('1.2.3')).toBe('stable');
    expect(channelOf('1.2.3-beta.4')).toBe('beta');
    expect(channelOf('1.2.3-dev.7a8354f74b50d7beead7719252a18ed45f55d070')).toBe('dev');
    for (const bad of ['v1.2.3', '1.2', '01.2.3', '1.2.3-rc.1', '1.2.3-beta.x', '1.2.3-dev.', '1.2.3-beta.1.2', '']) expect(channelOf(bad)).toBeNull();
  });

  it('orders dev < stable and beta < stable of one base, betas and devs of a base by creation date', () => {
    const list = [
      v('1.0.0', '2026-01-05T00:00:00Z'),
      v('1.0.0-beta.2', '2026-01-02T00:00:00Z'),
      v('1.0.0-dev.zzz', '2026-01-01T00:00:00Z'),
      v('1.0.0-dev.aaa', '2026-01-03T00:00:00Z'),
      v('0.9.9', '2026-01-09T00:00:00Z'),
      v('1.0.1-dev.bbb', '2025-01-01T00:00:00Z'),
    ];
    const sorted = [...list].sort(compareVersions).map((x) => x.version);
    expect(sorted).toEqual(['0.9.9', '1.0.0-dev.zzz', '1.0.0-beta.2', '1.0.0-dev.aaa', '1.0.0', '1.0.1-dev.bbb']);
  });

  it('orders betas of one base and one date by their number', () => {
    expect(compareVersions(v('1.0.0-beta.10'), v('1.0.0-beta.9'))).toBeGreaterThan(0);
  });

  it("takes a channel's latest among the versions at least as stable as the channel", () => {
    const list = [v('1.0.0', '2026-01-01T00:00:00Z'), v('1.1.0-beta.1', '2026-01-02T00:00:00Z'), v('1.1.0-dev.abc', '2026-01-03T00:00:00Z')];
    expect(latestOn(list, 'stable')?.version).toBe('1.0.0');
    expect(latestOn(list, 'beta')?.version).toBe('1.1.0-beta.1');
    expect(latestOn(list, 'dev')?.version).toBe('1.1.0-dev.abc');
    expect(latestOn([v('2.0.0-beta.1')], 'stable')).toBeNull();
    expect(latestOn([...list, v('1.1.0', '2025-01-01T00:00:00Z')], 'dev')?.version).toBe('1.1.0');
  });

  it('lists the versions of the channels a versionsChannel covers, oldest first', () => {
    const list = [v('1.1.0'), v('1.0.0'), v('1.1.0-beta.1'), v('1.1.0-dev.abc')];
    expect(versionLists(list, 'stable')).toEqual({ stable: ['1.0.0', '1.1.0'] });
    expect(versionLists(list, 'beta')).toEqual({ stable: ['1.0.0', '1.1.0'], beta: ['1.1.0-beta.1'] });
    expect(versionLists(list, 'dev')).toEqual({ stable: ['1.0.0', '1.1.0'], beta: ['1.1.0-beta.1'], dev: ['1.1.0-dev.abc'] });
  });
});

describe('registry:// sources', () => {
  it('reads the slug, the channel (stable by default) and a pinned version', () => {
    expect(parseRegistrySource('registry://drive')).toEqual({ slug: 'drive', channel: 'stable', version: null });
    expect(parseRegistrySource('registry://drive/')).toEqual({ slug: 'drive', channel: 'stable', version: null });
    expect(parseRegistrySource('registry://drive/beta')).toEqual({ slug: 'drive', channel: 'beta', version: null });
    expect(parseRegistrySource('registry://drive/1.2.3')).toEqual({ slug: 'drive', channel: 'stable', version: '1.2.3' });
    expect(parseRegistrySource('registry://drive/dev/1.2.3-dev.abc')).toEqual({ slug: 'drive', channel: 'dev', version: '1.2.3-dev.abc' });
    expect(parseRegistrySource('registry://drive/beta/latest')).toEqual({ slug: 'drive', channel: 'beta', version: null });
  });

  it('refuses what is not one (422)', () => {
    for (const bad of ['https://x/drive', 'registry://', 'registry://Drive', 'registry://../x', 'registry://drive/nightly', 'registry://drive/beta/x', 'registry://drive/nightly/1.0.0', 'registry://drive/beta/1.0.0/x']) {
      let caught: unknown = null;
      try {
        parseRegistrySource(bad);
      } catch (e) {
        caught = e;
      }
      expect(caught, bad).toBeInstanceOf(HearthError);
      expect((caught as HearthError).status, bad).toBe(422);
    }
  });
});

describe('the lazy update decision (contract §4.6)', () => {
  const app = (source: string, version: string, available_version?: string) => ({ source, version, ...(available_version ? { available_version } : {}) });

  it.each([
    ['not a registry app', app('https://example.org/a.tar.gz', '1.0.0'), '2.0.0', { action: 'nothing' }],
    ['the registries answered nothing', app('registry://drive', '1.0.0'), null, { action: 'nothing' }],
    ['same version', app('registry://drive', '1.0.0'), '1.0.0', { action: 'nothing' }],
    ['same version, stale available_version', app('registry://drive/stable', '1.0.0', '1.0.1-beta.1'), '1.0.0', { action: 'clear-available-version' }],
    ['latest already waits as available_version', app('registry://drive', '1.0.0', '1.1.0'), '1.1.0', { action: 'nothing' }],
    ['stable, latest older', app('registry://drive', '1.2.0'), '1.1.0', { action: 'nothing' }],
    ['stable, latest newer', app('registry://drive', '1.0.0'), '1.1.0', { action: 'update', version: '1.1.0' }],
    ['stable, newer than the waiting one', app('registry://drive', '1.0.0', '1.1.0'), '1.2.0', { action: 'update', version: '1.2.0' }],
    ['beta, latest older (channel switched back)', app('registry://drive/beta', '1.2.0-beta.1'), '1.1.0', { action: 'update', version: '1.1.0' }],
    ['dev, another dev build', app('registry://drive/dev', '1.0.0-dev.aaa'), '1.0.0-dev.bbb', { action: 'update', version: '1.0.0-dev.bbb' }],
    ['stable, installed version not semver', app('registry://drive', 'weird'), '1.0.0', { action: 'update', version: '1.0.0' }],
  ] as const)('%s', (_name, doc, latest, expected) => {
    expect(lazyUpdateDecision(doc, latest === null ? null : { version: latest })).toEqual(expected);
  });

  it('asks the channel of the source, none for other sources', () => {
    expect(lazyUpdateChannel('registry://drive')).toBe('stable');
    expect(lazyUpdateChannel('registry://drive/dev')).toBe('dev');
    expect(lazyUpdateChannel('registry://drive/1.0.0-beta.1')).toBe('stable');
    expect(lazyUpdateChannel('file:///srv/app')).toBeNull();
    expect(lazyUpdateChannel('registry://Bad Slug')).toBeNull();
  });
});
