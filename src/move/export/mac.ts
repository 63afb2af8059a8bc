/**
 * The link's credential to an export (cozy-stack's crypto.EncodeAuthMessage with the config "exports", model/move/doc.go):
 * base64url (no padding) of `timestamp (8 bytes, big endian, seconds) ‖ export id ‖ HMAC-SHA256`, the HMAC computed over
 * `"exports" ‖ timestamp ‖ export id` with the instance's session secret. It is valid 7 days; holding it is the right to
 * read the export and download its parts. A MAC of another instance fails its HMAC here.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { BadRequest, HearthError } from '../../common/errors.js';

const NAME = 'exports';
const MAC_LEN = 32;
const TIME_LEN = 8;
/** cozy-stack's archiveMaxAge. */
export const MAC_MAX_AGE_MS = 7 * 24 * 3_600_000;
const MAX_LEN = 256;

/** A MAC that this instance did not sign: cozy-stack's ErrMACInvalid (401). */
export class InvalidExportMac extends HearthError {
  constructor() {
    super(401, 'unauthorized', 'exports: invalid mac');
  }
}

const macOf = (key: Uint8Array, body: Buffer) => createHmac('sha256', key).update(NAME).update(body).digest();

export function encodeExportMac(key: Uint8Array, exportId: string, now = Date.now()): string {
  const body = Buffer.alloc(TIME_LEN + Buffer.byteLength(exportId));
  body.writeBigUInt64BE(BigInt(Math.floor(now / 1000)));
  body.write(exportId, TIME_LEN);
  return Buffer.concat([body, macOf(key, body)]).toString('base64url');
}

/** The export id a MAC carries; 400 for what is not base64url, 401 for a forged, altered or expired one. */
export function decodeExportMac(key: Uint8Array, mac: string, now = Date.now()): string {
  if (mac.length > MAX_LEN) throw new InvalidExportMac();
  if (!/^[A-Za-z0-9_-]*={0,2}$/.test(mac)) throw new BadRequest('exports: the mac is not base64url');
  const raw = Buffer.from(mac, 'base64url');
  if (raw.length < TIME_LEN + MAC_LEN + 1) throw new InvalidExportMac();
  const body = raw.subarray(0, raw.length - MAC_LEN);
  if (!timingSafeEqual(raw.subarray(raw.length - MAC_LEN), macOf(key, body))) throw new InvalidExportMac();
  const at = Number(body.readBigUInt64BE(0)) * 1000;
  if (at + MAC_MAX_AGE_MS < now) throw new InvalidExportMac();
  return body.subarray(TIME_LEN).toString('utf8');
}
