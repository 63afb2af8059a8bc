/**
 * Client metadata of OAuth 2 dynamic registration (RFC 7591, cozy-stack's fields, §2.8):
 * validation and the error shape RFC 7591 prescribes.
 */
import { HearthError } from '../common/errors.js';

/** An RFC 6749/7591 error: answered as `{error, error_description}` on /auth/register. */
export class OAuthError extends HearthError {
  constructor(status: number, error: string, description: string, headers: Record<string, string> = {}) {
    super(status, error, description, headers);
  }
}

export function invalidMetadata(description: string): OAuthError {
  return new OAuthError(400, 'invalid_client_metadata', description);
}

export interface ClientMetadata {
  redirect_uris: string[];
  client_name: string;
  software_id: string;
  client_kind?: string;
  client_uri?: string;
  logo_uri?: string;
  policy_uri?: string;
  software_version?: string;
  notification_platform?: string;
  notification_device_token?: string;
}

export const OPTIONAL_FIELDS = ['client_kind', 'client_uri', 'logo_uri', 'policy_uri', 'software_version', 'notification_platform', 'notification_device_token'] as const;
const ENUMS: Partial<Record<(typeof OPTIONAL_FIELDS)[number], string[]>> = {
  client_kind: ['web', 'desktop', 'mobile', 'browser'],
  notification_platform: ['android', 'ios', 'huawei'],
};
const URI_FIELDS = new Set(['client_uri', 'logo_uri', 'policy_uri']);
const MAX_URIS = 20;
const MAX_URI_LEN = 2048;
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

function text(body: Record<string, unknown>, field: string, max: number, required: boolean): string | undefined {
  const v = body[field];
  // cozy-stack (Go zero values, omitempty) takes an empty optional field as absent; cozy-stack-client's
  // OAuthClient sends every optional field, the unset ones as ""
  if (v === undefined || v === null || (!required && v === '')) {
    if (required) throw invalidMetadata(`${field} is required`);
    return undefined;
  }
  if (typeof v !== 'string' || v.length < 1 || v.length > max) throw invalidMetadata(`${field} must be a string of 1 to ${max} characters`);
  return v;
}

function parseUri(field: string, value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalidMetadata(`${field} must hold absolute URIs: "${value.slice(0, 100)}" is not one`);
  }
  if (url.hash || value.includes('#')) throw invalidMetadata(`${field} must not contain a fragment`);
  return url;
}

/** A redirect URI: absolute, no fragment; http only for loopback; custom schemes (cozy://) allowed for mobile apps. */
function redirectUri(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_URI_LEN) throw invalidMetadata(`redirect_uris must hold strings of 1 to ${MAX_URI_LEN} characters`);
  const url = parseUri('redirect_uris', value);
  const scheme = url.protocol.slice(0, -1).toLowerCase();
  if (scheme === 'http' && !LOOPBACK.has(url.hostname.toLowerCase())) throw invalidMetadata('http redirect URIs are only allowed for localhost: use https');
  if (['javascript', 'data', 'file', 'vbscript', 'blob', 'about'].includes(scheme)) throw invalidMetadata(`the ${scheme}: scheme is not allowed in redirect_uris`);
  return value;
}

/** Validates a registration (or RFC 7592 update) body; unknown fields are ignored. */
export function validateMetadata(raw: unknown): ClientMetadata {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw invalidMetadata('the body must be a JSON object');
  const body = raw as Record<string, unknown>;
  const uris = body.redirect_uris;
  if (!Array.isArray(uris) || uris.length === 0) throw invalidMetadata('redirect_uris is required: a non-empty array of URIs');
  if (uris.length > MAX_URIS) throw invalidMetadata(`redirect_uris holds at most ${MAX_URIS} URIs`);
  const meta: ClientMetadata = {
    redirect_uris: uris.map(redirectUri),
    client_name: text(body, 'client_name', 255, true) as string,
    software_id: text(body, 'software_id', 255, true) as string,
  };
  for (const field of OPTIONAL_FIELDS) {
    const max = field === 'notification_device_token' ? 4096 : URI_FIELDS.has(field) ? MAX_URI_LEN : 255;
    const v = text(body, field, max, false);
    if (v === undefined) continue;
    const allowed = ENUMS[field];
    if (allowed && !allowed.includes(v)) throw invalidMetadata(`${field} must be one of ${allowed.join(', ')}`);
    if (URI_FIELDS.has(field)) {
      const scheme = parseUri(field, v).protocol;
      if (scheme !== 'https:' && scheme !== 'http:') throw invalidMetadata(`${field} must be an http(s) URI`);
    }
    meta[field] = v;
  }
  return meta;
}
