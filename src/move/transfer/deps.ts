/** What the routes and hooks of a move between servers need (wired by server/compose.ts). */
import type { HearthConfig } from '../../config/types.js';
import type { TokenService } from '../../auth/tokens.js';
import type { SessionStore } from '../../auth/sessions.js';
import type { SecondFactorStart } from '../../auth/twofactor-routes.js';
import type { Instance, InstanceRegistry, TwoFactorStore } from '../../instances/types.js';
import type { PermissionResolver } from '../../permissions/resolve.js';
import type { LoginLockOut, RateLimiter } from '../../limits/index.js';
import type { OAuthClients } from '../../oauth/clients.js';
import type { AccessCodeStore } from '../../oauth/codes.js';
import type { JobEngine } from '../../jobs/engine.js';
import type { Scheduler } from '../../jobs/scheduler.js';
import type { MoveStateStore } from '../state.js';
import type { PendingStore } from './pending.js';

export interface TransferDeps {
  config: Pick<HearthConfig, 'move' | 'apps' | 'imports'>;
  registry: InstanceRegistry;
  sessions: SessionStore;
  tokens: TokenService;
  perms: PermissionResolver;
  clients: OAuthClients;
  /** The same access codes as /auth/access_token's (server/compose.ts shares one store). */
  codes: AccessCodeStore;
  limiter: RateLimiter;
  lockout: LoginLockOut;
  twoFactor: TwoFactorStore;
  /** After the passphrase of a move's consent: the second factor's token for a move, the code mailed (auth/twofactor-routes.ts). */
  secondFactor(instance: Instance): Promise<SecondFactorStart>;
  moveStates: MoveStateStore;
  pending: PendingStore;
  jobs: Pick<JobEngine, 'push'>;
  scheduler: Pick<Scheduler, 'list' | 'delete'>;
  /** Bytes the instance's files use. */
  usage(instance: Instance): Promise<number>;
  /** The instance's address (`http(s)://domain`), for the links in mails and what the other server calls. */
  publicUrl(instance: Instance): string;
}
