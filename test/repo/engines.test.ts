/** Every installed package supports the Node version that package.json's `engines` and the README name. */
import { readFileSync } from 'node:fs';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { engines: { node: string } };
const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as { packages: Record<string, { version?: string; engines?: { node?: string } | string[] }> };

describe('Node version', () => {
  it('is the same in package.json and the README', () => {
    expect(pkg.engines.node).toBe('>=20.19');
    expect(readFileSync('README.md', 'utf8')).toContain('Node.js ≥ 20.19');
  });

  it('is supported by every package of package-lock.json (npm ci warns EBADENGINE otherwise)', () => {
    const oldest = semver.minVersion(pkg.engines.node)?.version as string;
    const refusing = Object.entries(lock.packages)
      .filter(([path, p]) => path !== '' && p.engines && !Array.isArray(p.engines) && p.engines.node !== undefined)
      .filter(([, p]) => !semver.satisfies(oldest, (p.engines as { node: string }).node))
      .map(([path, p]) => `${path}@${p.version}: node ${(p.engines as { node: string }).node}`);
    expect(refusing).toEqual([]);
  });
});
