/**
 * The query-string and header parameters of /files, as cozy-stack reads them: PascalCase query
 * parameters (an empty value is the same as none: cozy-stack-client sends `MetadataID=&Size=`),
 * `Tags` comma-separated, dates in RFC 3339 (query) or RFC 1123 (Date header), a base64 Content-MD5,
 * the revision in If-Match (or `rev=`), and the JSON-API pagination `page[limit]` / `page[cursor]`.
 */
import type { FastifyRequest } from 'fastify';
import { BadRequest, UnprocessableEntity } from '../../common/errors.js';
import type { SourceAccount } from '../fs.js';

type Query = Record<string, string | string[] | undefined>;

/** A query parameter given once, or undefined when absent or empty. */
export function param(req: FastifyRequest, name: string): string | undefined {
  const v = (req.query as Query | undefined)?.[name];
  if (Array.isArray(v)) throw new UnprocessableEntity(`the parameter ${name} is given ${v.length} times: give it once`, 'invalid_parameter');
  return v === undefined || v === '' ? undefined : v;
}

export function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  const s = Array.isArray(v) ? v[0] : v;
  return s === undefined || s.trim() === '' ? undefined : s.trim();
}

export function boolParam(req: FastifyRequest, name: string): boolean | undefined {
  const v = param(req, name);
  if (v === undefined) return undefined;
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw new UnprocessableEntity(`${name} must be true or false, not "${v.slice(0, 40)}"`, 'invalid_parameter');
}

/** `Tags=a,b` (repeated `Tags` are joined): trimmed, without empty ones or duplicates. */
export function tagsParam(req: FastifyRequest): string[] | undefined {
  const v = (req.query as Query | undefined)?.Tags;
  if (v === undefined) return undefined;
  const tags = (Array.isArray(v) ? v.join(',') : v).split(',').map((t) => t.trim()).filter(Boolean);
  return [...new Set(tags)];
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

/** An RFC 3339 date of the query string (CreatedAt, UpdatedAt), as ISO 8601 UTC. */
export function dateParam(req: FastifyRequest, name: string): string | undefined {
  const v = param(req, name);
  if (v === undefined) return undefined;
  const t = RFC3339.test(v) ? Date.parse(v) : NaN;
  if (Number.isNaN(t)) throw new UnprocessableEntity(`${name} must be an RFC 3339 date such as 2024-05-01T12:00:00Z, not "${v.slice(0, 60)}"`, 'invalid_parameter');
  return new Date(t).toISOString();
}

/** The Date header (RFC 1123), if it is a valid date; ignored otherwise, as cozy-stack does. */
export function dateHeader(req: FastifyRequest): string | undefined {
  const v = header(req, 'date');
  const t = v === undefined ? NaN : Date.parse(v);
  return Number.isNaN(t) ? undefined : new Date(t).toISOString();
}

/** The announced size of an upload: Content-Length, else `Size=` (for chunked bodies). */
export function uploadSize(req: FastifyRequest): number | undefined {
  const length = header(req, 'content-length');
  const raw = length ?? param(req, 'Size');
  if (raw === undefined) return undefined;
  if (!/^\d{1,16}$/.test(raw) || !Number.isSafeInteger(Number(raw))) {
    throw new UnprocessableEntity(`${length === undefined ? 'Size' : 'Content-Length'} must be a number of bytes, not "${raw.slice(0, 40)}"`, 'invalid_parameter');
  }
  return Number(raw);
}

/** Content-MD5: the base64 of the 16 bytes of an MD5. */
export function contentMd5(req: FastifyRequest): string | undefined {
  const v = header(req, 'content-md5');
  if (v === undefined) return undefined;
  const bytes = /^[A-Za-z0-9+/]{22}(==)?$/.test(v) ? Buffer.from(v, 'base64') : Buffer.alloc(0);
  if (bytes.length !== 16) throw new UnprocessableEntity('Content-MD5 must be the base64 of the 16 bytes of an MD5 (24 characters, such as "hvsmnRkNLIX24EaM7KQqIA==")', 'invalid_parameter');
  return bytes.toString('base64');
}

/** The revision the client last saw: If-Match (quotes allowed), else `rev=`; undefined when neither. */
export function ifMatch(req: FastifyRequest): string | undefined {
  const v = header(req, 'if-match') ?? param(req, 'rev');
  return v === undefined ? undefined : v.replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
}

/** `SourceAccount=` (the io.cozy.accounts id) and `SourceAccountIdentifier=` (the login) of a konnector's upload, for cozyMetadata. */
export function sourceParams(req: FastifyRequest): SourceAccount | undefined {
  const out: SourceAccount = {};
  for (const [name, key] of [['SourceAccount', 'sourceAccount'], ['SourceAccountIdentifier', 'sourceAccountIdentifier']] as const) {
    const v = param(req, name);
    if (v === undefined) continue;
    // eslint-disable-next-line no-control-regex
    if (v.length > 1024 || /[\u0000-\u001f\u007f]/.test(v)) throw new UnprocessableEntity(`${name} must be at most 1024 characters, without control characters`, 'invalid_parameter');
    out[key] = v;
  }
  return out.sourceAccount === undefined && out.sourceAccountIdentifier === undefined ? undefined : out;
}

export const PAGE_DEFAULT = 30;
export const PAGE_MAX = 100;

export interface PageParams {
  limit: number;
  cursor?: string;
}

/** `page[limit]` (30 by default, at most 100) and `page[cursor]`. */
export function pageParams(req: FastifyRequest): PageParams {
  const raw = param(req, 'page[limit]');
  let limit = PAGE_DEFAULT;
  if (raw !== undefined) {
    if (!/^\d{1,6}$/.test(raw) || Number(raw) === 0) throw new BadRequest(`page[limit] must be a positive integer, not "${raw.slice(0, 40)}"`, 'invalid_parameter');
    limit = Math.min(Number(raw), PAGE_MAX);
  }
  const cursor = param(req, 'page[cursor]');
  return cursor === undefined ? { limit } : { limit, cursor };
}

/** The query string of the page after the one that ended with `cursor`. */
export function nextPageQuery(page: PageParams, cursor: string | null): string | null {
  if (cursor === null) return null;
  const limit = page.limit === PAGE_DEFAULT ? '' : `&page[limit]=${page.limit}`;
  return `page[cursor]=${encodeURIComponent(cursor)}${limit}`;
}

/** `page[limit]` (100 by default, 1 to 1,000) and `page[cursor]` of the relationship listings (references, not_synchronizing). */
export function relationsPage(req: FastifyRequest): { limit: number; cursor?: string } {
  const limit = Math.min(Math.max(Number(param(req, 'page[limit]') ?? 100) || 100, 1), 1000);
  const cursor = param(req, 'page[cursor]');
  return { limit, ...(cursor ? { cursor } : {}) };
}
