/**
 * OAuth clients (cozy-stack's io.cozy.oauth.clients): one document per client in the
 * instance's DocStore, id = client_id. The secret is checked against a SHA-256 hash and kept
 * sealed (AES-GCM under a key of the instance, auth/twofactor/seal.ts) so that, as cozy-stack does,
 * RFC 7592 reads and updates can give it back to the holder of the registration token: clients such
 * as cozy-stack-client's OAuthClient keep what the update answers, and would lose their secret.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { NotFound } from '../common/errors.js';
import { openSecret, sealSecret } from '../auth/twofactor/seal.js';
import type { Instance } from '../instances/types.js';
import type { Doc, DocStore } from '../data/store.js';
import { OAuthError, OPTIONAL_FIELDS, validateMetadata, type ClientMetadata, type MetadataBody } from './metadata.js';

export const CLIENTS_DOCTYPE = 'io.cozy.oauth.clients';

export interface OAuthClient extends ClientMetadata {
  client_id: string;
  created_at: string;
  pending: boolean;
  last_refreshed_at?: string;
  /** The last time the client said it synchronized (POST /settings/synchronized). */
  synchronized_at?: string;
}

/** A client plus its clear secret (none for a client stored before secrets were sealed). */
export interface ClientWithSecret {
  client: OAuthClient;
  secret?: string;
}

const ID_RE = /^[0-9a-f]{32}$/;
const SEAL = 'hearth/oauth/client-secret/v1';

function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

function fromDoc(doc: Doc): OAuthClient {
  const client: OAuthClient = {
    client_id: String(doc._id),
    redirect_uris: (doc.redirect_uris as string[]) ?? [],
    client_name: String(doc.client_name),
    software_id: String(doc.software_id),
    created_at: String(doc.created_at),
    pending: doc.pending === true,
  };
  for (const f of OPTIONAL_FIELDS) if (typeof doc[f] === 'string') client[f] = doc[f];
  if (typeof doc.last_refreshed_at === 'string') client.last_refreshed_at = doc.last_refreshed_at;
  if (typeof doc.synchronized_at === 'string') client.synchronized_at = doc.synchronized_at;
  return client;
}

export class OAuthClients {
  constructor(
    private readonly storeOf: (instance: Instance) => DocStore,
    /** The instance's session secret, from which the sealing key is derived. */
    private readonly sealKeyOf: (instance: Instance) => Promise<Uint8Array>,
  ) {}

  async register(instance: Instance, body: MetadataBody): Promise<Required<ClientWithSecret>> {
    const meta = validateMetadata(body);
    const id = randomBytes(16).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    const doc: Doc = { _id: id, ...(meta as unknown as Doc), ...(await this.secretFields(instance, secret)), created_at: new Date().toISOString(), pending: true };
    await this.storeOf(instance).put(CLIENTS_DOCTYPE, doc);
    return { client: fromDoc(doc), secret };
  }

  async get(instance: Instance, id: string): Promise<OAuthClient> {
    return fromDoc(await this.load(instance, id));
  }

  /** The client and its clear secret, for the RFC 7592 read (the caller holds the registration token). */
  async getWithSecret(instance: Instance, id: string): Promise<ClientWithSecret> {
    const doc = await this.load(instance, id);
    return this.withSecret(instance, doc);
  }

  /** RFC 7592 update: the body replaces the metadata; a matching `client_secret` rotates the secret. Answers the (new) secret. */
  async update(instance: Instance, id: string, body: MetadataBody & { client_secret?: unknown }): Promise<ClientWithSecret> {
    const old = await this.load(instance, id);
    const given = body.client_secret;
    const meta = validateMetadata(body);
    let secretFields: Doc = { client_secret_sha256: String(old.client_secret_sha256) };
    if (typeof old.client_secret_sealed === 'string') secretFields.client_secret_sealed = old.client_secret_sealed;
    if (given !== undefined) {
      if (typeof given !== 'string' || !this.secretMatches(old, given)) throw new OAuthError(400, 'invalid_client', 'client_secret is invalid');
      secretFields = await this.secretFields(instance, randomBytes(32).toString('base64url'));
    }
    const kept = Object.fromEntries(['_rev', 'created_at', 'pending', 'last_refreshed_at', 'synchronized_at'].filter((k) => k in old).map((k) => [k, old[k] as Doc[string]]));
    const doc: Doc = { _id: id, ...kept, ...(meta as unknown as Doc), ...secretFields };
    await this.storeOf(instance).put(CLIENTS_DOCTYPE, doc);
    return this.withSecret(instance, doc);
  }

  private async secretFields(instance: Instance, secret: string): Promise<Doc> {
    return { client_secret_sha256: hashSecret(secret), client_secret_sealed: sealSecret(await this.sealKeyOf(instance), instance.id, secret, SEAL) };
  }

  private async withSecret(instance: Instance, doc: Doc): Promise<ClientWithSecret> {
    const sealed = doc.client_secret_sealed;
    const secret = typeof sealed === 'string' ? openSecret(await this.sealKeyOf(instance), instance.id, sealed, SEAL) : null;
    return secret === null ? { client: fromDoc(doc) } : { client: fromDoc(doc), secret };
  }

  async delete(instance: Instance, id: string): Promise<void> {
    const old = await this.load(instance, id);
    await this.storeOf(instance).put(CLIENTS_DOCTYPE, { _id: id, _rev: old._rev as string, _deleted: true });
  }

  /** After a token grant: the client is no longer pending and `last_refreshed_at` is now. */
  async markUsed(instance: Instance, id: string): Promise<void> {
    const doc = await this.load(instance, id);
    await this.storeOf(instance).put(CLIENTS_DOCTYPE, { ...doc, pending: false, last_refreshed_at: new Date().toISOString() });
  }

  /** POST /settings/synchronized: the client's `synchronized_at` is now. */
  async markSynchronized(instance: Instance, id: string): Promise<void> {
    const doc = await this.load(instance, id);
    await this.storeOf(instance).put(CLIENTS_DOCTYPE, { ...doc, synchronized_at: new Date().toISOString() });
  }

  async list(instance: Instance): Promise<OAuthClient[]> {
    const res = await this.storeOf(instance).allDocs(CLIENTS_DOCTYPE, { include_docs: true, skipDesign: true });
    return res.rows.flatMap((r) => (r.doc && !r.doc._deleted ? [fromDoc(r.doc)] : []));
  }

  /** Constant-time check of a client secret (for the token endpoint and rotation). */
  async verifySecret(instance: Instance, id: string, secret: string): Promise<boolean> {
    return this.secretMatches(await this.load(instance, id), secret);
  }

  private secretMatches(doc: Doc, secret: string): boolean {
    const want = Buffer.from(String(doc.client_secret_sha256), 'hex');
    const got = Buffer.from(hashSecret(secret), 'hex');
    return want.length === got.length && timingSafeEqual(want, got);
  }

  private async load(instance: Instance, id: string): Promise<Doc> {
    if (!ID_RE.test(id)) throw new NotFound(`no OAuth client ${id.slice(0, 64)}`);
    try {
      return await this.storeOf(instance).get(CLIENTS_DOCTYPE, id);
    } catch (err) {
      if (err instanceof NotFound) throw new NotFound(`no OAuth client ${id}`);
      throw err;
    }
  }
}
