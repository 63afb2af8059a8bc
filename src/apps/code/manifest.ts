/** Checks the manifest of a package (cozy-stack reads it with a 2 MiB cap): JSON object, kind, slug. */
import { KIND, SLUG_RE, type AppKind, type Manifest } from '../types.js';
import { BadPackage } from './errors.js';

/** A manifest larger than this is refused. */
export const MAX_MANIFEST_BYTES = 2 * 1024 * 1024;

/** Parses `bytes` as the manifest of a `kind` package; `expectedSlug` (the slug asked for) must match when given. */
export function parseManifest(bytes: Buffer, kind: AppKind, expectedSlug?: string): Manifest {
  const name = KIND[kind].manifest;
  if (bytes.length > MAX_MANIFEST_BYTES) throw new BadPackage(`${name} is larger than ${MAX_MANIFEST_BYTES} bytes (2 MiB)`);
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8').replace(/^\uFEFF/, ''));
  } catch {
    throw new BadPackage(`${name} is not valid JSON`);
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new BadPackage(`${name} must hold a JSON object`);
  const manifest = json as Manifest;
  if (manifest.type !== undefined && manifest.type !== kind) {
    throw new BadPackage(`${name} says type ${JSON.stringify(manifest.type).slice(0, 40)}: this package is not a ${kind}`);
  }
  if (manifest.slug === undefined && expectedSlug !== undefined) manifest.slug = expectedSlug;
  if (typeof manifest.slug !== 'string' || !SLUG_RE.test(manifest.slug)) {
    throw new BadPackage(`${name} has no valid slug (expected ${SLUG_RE.source})`);
  }
  if (expectedSlug !== undefined && manifest.slug !== expectedSlug) {
    throw new BadPackage(`${name} is for the slug "${manifest.slug}", not "${expectedSlug}"`);
  }
  if (manifest.version !== undefined && typeof manifest.version !== 'string') throw new BadPackage(`${name}: version must be a string`);
  return manifest;
}
