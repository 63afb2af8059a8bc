/**
 * OAuth access tokens are stateless JWTs whose `sub` is the client id: deleting the client
 * (DELETE /settings/clients/:id or /auth/register/:id) revokes them by this check, which the
 * PermissionResolver runs for every `access` token, so revocation applies on the next request.
 */
import { InvalidToken, NotFound } from '../common/errors.js';
import type { DocStore } from '../data/store.js';
import { CLIENTS_DOCTYPE } from './clients.js';

const ID_RE = /^[0-9a-f]{32}$/;

/** Throws cozy-stack's `Invalid JWT token` unless the OAuth client still exists. */
export async function assertClientActive(store: DocStore, clientId: string): Promise<void> {
  if (!ID_RE.test(clientId)) throw new InvalidToken('Invalid JWT token');
  try {
    const doc = await store.get(CLIENTS_DOCTYPE, clientId);
    if (doc._deleted) throw new InvalidToken('Invalid JWT token');
  } catch (err) {
    if (err instanceof NotFound) throw new InvalidToken('Invalid JWT token');
    throw err;
  }
}
