/**
 * The lock-out of the owner's passphrase (the login, its second step, the passphrase checks of the settings),
 * per source first: `LOGIN_LOCKOUT` applies to each client address (an IPv6 address by its /64, which one
 * client usually holds whole), so a stranger's failures lock out the stranger's address and not the owner's.
 * Guesses spread over many addresses are still bounded: each address locked out for the first time counts
 * one failure of the instance, and `LOGIN_LOCKOUT_SOURCES` of them lock the whole instance (15 min, doubling
 * up to 24 h, as LockOut does). The owner gets in while locked by resetting the passphrase by mail
 * (`unlockFor`, the proof being the instance's mailbox); the operator's `unlock` clears everything.
 */
import ipaddr from 'ipaddr.js';
import { MemoryLockOut, type LockOut, type LockOutOptions, type LockStatus } from './lockout.js';

/** The source a client address counts as: IPv4 (also IPv4-mapped IPv6) whole, IPv6 by its /64. */
export function sourceOf(ip: string): string {
  if (!ipaddr.isValid(ip)) return ip;
  const addr = ipaddr.process(ip);
  if (addr.kind() === 'ipv4') return addr.toString();
  return `${(addr as ipaddr.IPv6).parts.slice(0, 4).map((p) => p.toString(16)).join(':')}::/64`;
}

export interface LoginLockOutOptions {
  /** Per client address (LOGIN_LOCKOUT). */
  perSource: LockOutOptions;
  /** Per instance, counting addresses locked out (LOGIN_LOCKOUT_SOURCES). */
  perInstance: LockOutOptions;
}

/** Builds the counters of one lock-out (`name`: which one, for a store that keeps both in one place). */
export type LockOutFactory = (name: 'source' | 'instance', opts: LockOutOptions) => LockOut;

export class LoginLockOut {
  private readonly bySource: LockOut;
  private readonly byInstance: LockOut;

  /** `make`: in process memory by default; coordination.engine redis shares the counters between processes. */
  constructor(opts: LoginLockOutOptions, make: LockOutFactory = (_name, o) => new MemoryLockOut(o)) {
    this.bySource = make('source', opts.perSource);
    this.byInstance = make('instance', opts.perInstance);
  }

  private key(instanceId: string, ip: string): string {
    return `${instanceId}\n${sourceOf(ip)}`;
  }

  /**
   * Whether `ip` may try the passphrase of the instance: locked when its address or the whole instance is.
   * `failures` are the address's. Without `ip`: the instance's own lock (and its count of addresses locked out).
   */
  async status(instanceId: string, ip?: string): Promise<LockStatus> {
    const whole = await this.byInstance.status(instanceId);
    if (ip === undefined) return whole;
    const own = await this.bySource.status(this.key(instanceId, ip));
    const until = Math.max(own.until ?? 0, whole.until ?? 0);
    return { locked: own.locked || whole.locked, until: until || null, failures: own.failures };
  }

  /** A wrong passphrase (or code) from `ip`; returns the new status. */
  async failure(instanceId: string, ip: string): Promise<LockStatus> {
    const key = this.key(instanceId, ip);
    const before = await this.bySource.lockOuts(key);
    await this.bySource.failure(key);
    if (before === 0 && (await this.bySource.lockOuts(key)) === 1) await this.byInstance.failure(instanceId);
    return this.status(instanceId, ip);
  }

  /**
   * The right passphrase from `ip`: its address's count starts again. The instance's count of addresses locked out
   * does not (it is forgotten after a quiet day): otherwise each login of the owner would give a sprayer ten more.
   */
  async success(instanceId: string, ip: string): Promise<void> {
    await this.bySource.success(this.key(instanceId, ip));
  }

  /** The owner proved they hold the instance's mailbox (a passphrase reset): the instance and their address are unlocked. */
  async unlockFor(instanceId: string, ip: string): Promise<void> {
    await this.byInstance.unlock(instanceId);
    await this.bySource.unlock(this.key(instanceId, ip));
  }

  /** The operator's unlock: the instance and every address locked out of it. */
  async unlock(instanceId: string): Promise<void> {
    await this.byInstance.unlock(instanceId);
    await this.bySource.unlockPrefix(`${instanceId}\n`);
  }
}
