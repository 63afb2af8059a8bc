/**
 * JWT tokens as cozy-stack issues them: HS256, signed with a per-instance secret
 * chosen by audience; `iss` is the instance domain. Verification errors carry
 * cozy-stack's exact messages (clients such as cozy-client match on them).
 */
import { SignJWT, jwtVerify, errors as joseErrors, decodeJwt } from 'jose';
import { InvalidToken } from '../common/errors.js';
import { INSTANCES_TOPIC, type Invalidation } from '../common/invalidation.js';
import type { Instance, InstanceRegistry, InstanceSecrets } from '../instances/types.js';

export type Audience = 'cli' | 'app' | 'konn' | 'svc' | 'access' | 'refresh' | 'share' | 'registration';

export interface TokenClaims {
  aud: Audience;
  iss: string;
  iat: number;
  exp?: number;
  /** The app/konnector slug, OAuth client id or permission doc id. */
  sub: string;
  /** Space-separated permission scope (cli, access, refresh). */
  scope?: string;
  session_id?: string;
}

/** Lifetimes in seconds (cozy-stack's pkg/consts/token.go). */
export const TOKEN_TTL: Record<Audience, number | null> = {
  app: 24 * 3600,
  konn: 30 * 60,
  /** An app's service run by the service worker (cozy-stack gives it a session-less app token): the app's rights. */
  svc: 30 * 60,
  cli: 30 * 60,
  access: 7 * 24 * 3600,
  refresh: null,
  share: null,
  /** RFC 7592 registration_access_token: no expiry, revoked by deleting the client. */
  registration: null,
};

function keyFor(secrets: InstanceSecrets, aud: Audience): Uint8Array {
  if (aud === 'cli') return secrets.cli;
  if (aud === 'app' || aud === 'konn' || aud === 'svc') return secrets.session;
  return secrets.oauth;
}

const VERIFIED_CACHE_MAX = 10_000;

export class TokenService {
  /** Tokens already verified (signature, issuer, audience): instance id + token → claims. */
  private readonly verified = new Map<string, TokenClaims>();

  /** `invalidation`: a change of an instance, in any process, drops the tokens verified with its secrets. */
  constructor(private readonly registry: InstanceRegistry, invalidation?: Invalidation) {
    invalidation?.listen(INSTANCES_TOPIC, (id) => {
      for (const key of this.verified.keys()) if (key.startsWith(`${id}\n`)) this.verified.delete(key);
    });
  }

  async issue(
    instance: Instance,
    claims: { aud: Audience; sub: string; scope?: string; session_id?: string },
    ttlSeconds: number | null = TOKEN_TTL[claims.aud],
  ): Promise<string> {
    const secrets = await this.registry.secrets(instance);
    const now = Math.floor(Date.now() / 1000);
    const payload: Record<string, unknown> = { sub: claims.sub };
    if (claims.scope !== undefined) payload.scope = claims.scope;
    if (claims.session_id !== undefined) payload.session_id = claims.session_id;
    let jwt = new SignJWT(payload)
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setAudience(claims.aud)
      .setIssuer(instance.domain)
      .setIssuedAt(now);
    if (ttlSeconds !== null) jwt = jwt.setExpirationTime(now + ttlSeconds);
    return jwt.sign(keyFor(secrets, claims.aud));
  }

  /** Verifies a token for this instance; throws InvalidToken with cozy-stack's message. */
  async verify(instance: Instance, token: string): Promise<TokenClaims> {
    const cacheKey = `${instance.id}\n${token}`;
    const hit = this.verified.get(cacheKey);
    if (hit) {
      if (hit.exp === undefined || hit.exp > Date.now() / 1000) return hit;
      this.verified.delete(cacheKey);
      throw new InvalidToken('Expired token');
    }
    const claims = await this.verifySignature(instance, token);
    if (this.verified.size >= VERIFIED_CACHE_MAX) this.verified.clear();
    this.verified.set(cacheKey, claims);
    return claims;
  }

  private async verifySignature(instance: Instance, token: string): Promise<TokenClaims> {
    let unverified: ReturnType<typeof decodeJwt>;
    try {
      unverified = decodeJwt(token);
    } catch {
      throw new InvalidToken('Invalid JWT token');
    }
    const aud = Array.isArray(unverified.aud) ? unverified.aud[0] : unverified.aud;
    if (typeof aud !== 'string' || !(aud in TOKEN_TTL)) throw new InvalidToken('Invalid JWT token');
    const secrets = await this.registry.secrets(instance);
    try {
      const { payload } = await jwtVerify(token, keyFor(secrets, aud as Audience), {
        algorithms: ['HS256'],
        issuer: instance.domain,
        audience: aud,
      });
      if (typeof payload.sub !== 'string' || typeof payload.iat !== 'number') throw new InvalidToken('Invalid JWT token');
      return payload as unknown as TokenClaims;
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) throw new InvalidToken('Expired token');
      throw new InvalidToken('Invalid JWT token');
    }
  }
}
