/**
 * The Content-Security-Policy of app hosts, built per request as cozy-stack's middlewares.Secure does (contract §3).
 * `P` is the instance's API origin, `W` its WebSocket origin, `S` every app host of the instance.
 */
const DIRECTIVES = ['default', 'script', 'connect', 'img', 'style', 'font', 'media', 'frame', 'form'] as const;
export type CspDirective = (typeof DIRECTIVES)[number];
export type CspAllowlist = Partial<Record<CspDirective, string[]>>;

const BUILTIN: CspAllowlist = {
  script: ['https://matomo.cozycloud.cc', 'https://errors.cozycloud.cc', 'https://api.pwnedpasswords.com'],
  connect: ['https://matomo.cozycloud.cc', 'https://errors.cozycloud.cc', 'https://api.pwnedpasswords.com'],
  img: ['https://matomo.cozycloud.cc', 'https://*.tile.openstreetmap.org', 'https://*.tile.osm.org'],
  frame: ['cozydrive:', 'cozybanks:'],
};

/** `apps.cspAllowlist` (a JSON object of space-separated lists by directive); anything else is a configuration error. */
export function parseCspAllowlist(raw: string): CspAllowlist {
  const value = JSON.parse(raw || '{}') as unknown;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('apps.cspAllowlist must be a JSON object, e.g. {"img":"https://tiles.example.org"}');
  const out: CspAllowlist = {};
  for (const [key, list] of Object.entries(value)) {
    if (!(DIRECTIVES as readonly string[]).includes(key) || typeof list !== 'string') throw new Error(`apps.cspAllowlist: "${key}" must be one of ${DIRECTIVES.join(', ')}, with a string of sources`);
    // a source may not smuggle another directive in
    const sources = list.split(/\s+/).filter(Boolean);
    if (sources.some((s) => /[;,]/.test(s))) throw new Error(`apps.cspAllowlist.${key}: a source may not hold ; or ,`);
    out[key as CspDirective] = sources;
  }
  return out;
}

export interface CspInput {
  /** `http` in dev (plain-HTTP instances), `https` otherwise. */
  scheme: 'http' | 'https';
  /** The instance's host[:port] as the request reached it. */
  instanceHost: string;
  /** The parent every app host of the instance shares, with the port (nested: the instance host; flat: its parent). */
  siblingsParent: string;
  allowlist: CspAllowlist;
  /** Origins allowed to frame this page (intents), beside 'self'. */
  frameAncestors?: string[];
}

/** Outside dev, http sources become https and ws become wss (cozy-stack does the same to configured lists). */
function secure(sources: string[], scheme: 'http' | 'https'): string[] {
  if (scheme === 'http') return sources;
  return sources.map((s) => s.replace(/^http:/, 'https:').replace(/^ws:/, 'wss:'));
}

export function appCsp(o: CspInput): string {
  const P = `${o.scheme}://${o.instanceHost}`;
  const W = `${o.scheme === 'https' ? 'wss' : 'ws'}://${o.instanceHost}`;
  const S = `${o.scheme}://*.${o.siblingsParent}`;
  const base = ["'self'", P, W];
  const list = (d: CspDirective) => [...(BUILTIN[d] ?? []), ...secure(o.allowlist[d] ?? [], o.scheme)];
  const parts: string[] = [
    `default-src ${[...base, ...secure(o.allowlist.default ?? [], o.scheme)].join(' ')}`,
    `script-src 'wasm-unsafe-eval' ${[...list('script'), ...base].join(' ')}`,
    `frame-src ${[S, ...list('frame'), ...base].join(' ')}`,
    `connect-src blob: ${[...list('connect'), ...base].join(' ')}`,
    `font-src data: ${[...list('font'), ...base].join(' ')}`,
    `img-src data: blob: ${[...list('img'), ...base].join(' ')}`,
  ];
  const media = list('media');
  if (media.length) parts.push(`media-src ${[...media, ...base].join(' ')}`);
  parts.push(
    "object-src 'none'",
    `style-src 'unsafe-inline' ${[...list('style'), ...base].join(' ')}`,
    "worker-src 'self' blob:",
    `frame-ancestors ${["'self'", ...(o.frameAncestors ?? [])].join(' ')}`,
    "base-uri 'self'",
    `form-action ${[P, ...list('form')].join(' ')}`,
  );
  return `${parts.join('; ')};`;
}

/** The API host's closed policy (cozy-stack's router for the main domain). */
export const CLOSED_CSP = "default-src 'none'; frame-src 'none'; frame-ancestors 'none'; base-uri 'none';";
