/**
 * Cache invalidation across processes. A process that keeps a copy of hot state (an instance by host name, its secrets,
 * permission documents, settings) drops it when any process writes that state: the writer calls `invalidate(topic, key)`
 * after its write is durable, and every process's listeners of `topic` (the writer's own included) hear the key.
 * In-process here (one `hearth` process); coordination.engine redis implements the same interface with pub/sub.
 * A listener must treat a missed message as possible (a Redis reconnection): caches that can go stale across processes
 * also bound their entries' age.
 */
export interface Invalidation {
  invalidate(topic: string, key: string): void;
  /** Returns the function that stops listening. */
  listen(topic: string, listener: (key: string) => void): () => void;
}

export class InProcessInvalidation implements Invalidation {
  private readonly listeners = new Map<string, Set<(key: string) => void>>();

  invalidate(topic: string, key: string): void {
    for (const listener of [...(this.listeners.get(topic) ?? [])]) {
      try {
        listener(key);
      } catch {
        // a failing listener must not break the write that invalidates
      }
    }
  }

  listen(topic: string, listener: (key: string) => void): () => void {
    let set = this.listeners.get(topic);
    if (!set) this.listeners.set(topic, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(topic);
    };
  }
}

/** The topic of instances (key: the instance id): the caches of their host names, secrets and the tokens verified with them. */
export const INSTANCES_TOPIC = 'instances';
