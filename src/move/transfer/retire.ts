/**
 * The retired source of a move is deleted some time after it was finalized (cozy-stack's Finalize asks its manager to
 * delete the instance in 30 days: DelayBeforeInstanceDeletionAfterMoved). Until then it answers 410 with its new address
 * (moved.ts). The date is durable: it is the `since` of the `moved` state (../state.ts), kept with the server's state, so
 * a restart changes nothing; every `everyMs` (and at start) each process destroys the instances whose
 * `move.retiredRetentionDays` are over. Two processes racing destroy once: the loser finds the instance gone.
 */
import type { Logger } from 'pino';
import type { Instance, InstanceRegistry } from '../../instances/types.js';
import type { MoveStateStore } from '../state.js';

const DAY_MS = 24 * 3600 * 1000;

export interface RetireDeps {
  moveStates: Pick<MoveStateStore, 'list'>;
  registry: Pick<InstanceRegistry, 'get' | 'page' | 'destroy'>;
  /** `move.retiredRetentionDays`; 0: never deleted. */
  retentionDays: number;
  logger: Logger;
  now?: () => number;
  /** How often to look (default an hour; 0: only when asked). */
  everyMs?: number;
}

/** The instance of a `moved` row: by the domain finalize noted, else (renamed since, or an older row) by its id. */
async function instanceOf(deps: RetireDeps, id: string, domain: unknown): Promise<Instance | null> {
  const noted = typeof domain === 'string' ? await deps.registry.get(domain) : null;
  if (noted?.id === id) return noted;
  for (let page = await deps.registry.page({ limit: 500 }); page.length; page = await deps.registry.page({ after: page[page.length - 1]!.domain, limit: 500 })) {
    const found = page.find((i) => i.id === id);
    if (found) return found;
  }
  return null;
}

export class RetiredInstances {
  private timer: NodeJS.Timeout | null = null;
  private sweeping: Promise<number> | null = null;

  constructor(private readonly deps: RetireDeps) {}

  /** Destroys the retired instances that are due; answers how many. */
  sweep(): Promise<number> {
    this.sweeping ??= this.run().finally(() => {
      this.sweeping = null;
    });
    return this.sweeping;
  }

  private async run(): Promise<number> {
    const { retentionDays, logger } = this.deps;
    if (!(retentionDays > 0)) return 0;
    const now = (this.deps.now ?? Date.now)();
    let destroyed = 0;
    try {
      for (const { instanceId, state } of await this.deps.moveStates.list()) {
        if (state.status !== 'moved' || !(Date.parse(state.since) + retentionDays * DAY_MS <= now)) continue;
        const instance = await instanceOf(this.deps, instanceId, state.detail.domain);
        if (!instance) continue;
        try {
          await this.deps.registry.destroy(instance.domain);
          destroyed++;
          logger.info({ domain: instance.domain, instance_id: instance.id, moved_to: state.peer, moved_at: state.since }, 'move: the retired source was deleted');
        } catch (err) {
          logger.warn({ domain: instance.domain, err: (err as Error).message }, 'move: the retired source could not be deleted (next round)');
        }
      }
    } catch (err) {
      logger.error({ err }, 'move: the round of retired sources failed');
    }
    return destroyed;
  }

  start(): void {
    const every = this.deps.everyMs ?? 3600_000;
    void this.sweep();
    if (every > 0) this.timer = setInterval(() => void this.sweep(), every).unref();
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.sweeping;
  }
}
