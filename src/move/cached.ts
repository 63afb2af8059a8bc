/**
 * The move state is read on every request (a blocked or moved instance answers differently), so each process keeps a
 * copy: a transition drops it in every process through the coordination's Invalidation (Redis pub/sub with several
 * processes), and an entry lives at most `maxAgeMs` in case a message was missed.
 */
import type { Invalidation } from '../common/invalidation.js';
import type { MoveState, MoveStateStore, MoveStatus } from './state.js';

export const MOVE_STATE_TOPIC = 'move-state';

export class CachedMoveStates implements MoveStateStore {
  private readonly cache = new Map<string, { state: MoveState | null; at: number }>();
  private readonly unlisten: () => void;

  constructor(private readonly store: MoveStateStore, private readonly invalidation: Invalidation, private readonly maxAgeMs = 5000) {
    this.unlisten = invalidation.listen(MOVE_STATE_TOPIC, (id) => this.cache.delete(id));
  }

  async get(instanceId: string): Promise<MoveState | null> {
    const hit = this.cache.get(instanceId);
    if (hit && Date.now() - hit.at < this.maxAgeMs) return hit.state;
    const state = await this.store.get(instanceId);
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(instanceId, { state, at: Date.now() });
    return state;
  }

  async transition(instanceId: string, from: MoveStatus | null, next: MoveState | null): Promise<boolean> {
    const done = await this.store.transition(instanceId, from, next);
    this.invalidation.invalidate(MOVE_STATE_TOPIC, instanceId);
    return done;
  }

  list(): Promise<Array<{ instanceId: string; state: MoveState }>> {
    return this.store.list();
  }

  async forget(instanceId: string): Promise<void> {
    await this.store.forget(instanceId);
    this.invalidation.invalidate(MOVE_STATE_TOPIC, instanceId);
  }

  async close(): Promise<void> {
    this.unlisten();
    await this.store.close();
  }
}
