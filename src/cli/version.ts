/** The version of this build, as the admin API's GET /version reports it. */
import { readFileSync } from 'node:fs';

export interface VersionInfo {
  version: string;
  build_mode: string;
  runtime_version: string;
}

export function cliVersion(): VersionInfo {
  // Same depth from src/cli/ and dist/cli/.
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return {
    version: pkg.version,
    build_mode: import.meta.url.includes('/dist/') ? 'production' : 'development',
    runtime_version: `node ${process.version}`,
  };
}
