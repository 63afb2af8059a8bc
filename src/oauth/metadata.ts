/**
 * Client metadata of OAuth 2 dynamic registration (RFC 7591, cozy-stack's fields, §2.8): the error shape
 * RFC 7591 prescribes, the fields' limits (their types and sizes are checked by the routes' schemas,
 * schemas.ts), and what a schema cannot say: the URIs' meaning (absolute, no fragment, allowed schemes).
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
export type OptionalField = (typeof OPTIONAL_FIELDS)[number];
export const ENUMS: Partial<Record<OptionalField, string[]>> = {
  client_kind: ['web', 'desktop', 'mobile', 'browser'],
  notification_platform: ['android', 'ios', 'huawei'],
};
export const URI_FIELDS = new Set<string>(['client_uri', 'logo_uri', 'policy_uri']);
export const MAX_URIS = 20;
export const MAX_URI_LEN = 2048;
/** The longest value of a text field. */
export const maxLength = (field: string): number => (field === 'notification_device_token' ? 4096 : URI_FIELDS.has(field) ? MAX_URI_LEN : 255);
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** A registration (or RFC 7592 update) body as the route's schema checked it: types and sizes. */
export type MetadataBody = { redirect_uris: string[]; client_name: string; software_id: string } & Partial<Record<OptionalField, string | null>>;

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
function redirectUri(value: string): string {
  const url = parseUri('redirect_uris', value);
  const scheme = url.protocol.slice(0, -1).toLowerCase();
  // `*.localhost` is loopback too (RFC 6761): the dev instance hearth.localhost, a move's wizard coming back to it
  if (scheme === 'http' && !LOOPBACK.has(url.hostname.toLowerCase()) && !url.hostname.toLowerCase().endsWith('.localhost')) throw invalidMetadata('http redirect URIs are only allowed for localhost: use https');
  if (['javascript', 'data', 'file', 'vbscript', 'blob', 'about'].includes(scheme)) throw invalidMetadata(`the ${scheme}: scheme is not allowed in redirect_uris`);
  return value;
}

/** The metadata of a checked body: the URIs' meaning checked; unknown fields ignored. */
export function validateMetadata(body: MetadataBody): ClientMetadata {
  const meta: ClientMetadata = { redirect_uris: body.redirect_uris.map(redirectUri), client_name: body.client_name, software_id: body.software_id };
  for (const field of OPTIONAL_FIELDS) {
    const v = body[field];
    // cozy-stack (Go zero values, omitempty) takes an empty optional field as absent; cozy-stack-client's
    // OAuthClient sends every optional field, the unset ones as ""
    if (v === undefined || v === null || v === '') continue;
    if (URI_FIELDS.has(field)) {
      const scheme = parseUri(field, v).protocol;
      if (scheme !== 'https:' && scheme !== 'http:') throw invalidMetadata(`${field} must be an http(s) URI`);
    }
    meta[field] = v;
  }
  return meta;
}
