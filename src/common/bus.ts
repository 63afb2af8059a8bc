/**
 * The internal event bus. Every document write publishes one event after it is
 * durable; realtime, triggers, sharing and the changes feed's longpoll consume it.
 * In-process implementation here; a Redis pub/sub one comes with scale-out.
 */
export type DocVerb = 'CREATED' | 'UPDATED' | 'DELETED';

export interface DocEvent {
  domain: string;
  doctype: string;
  id: string;
  verb: DocVerb;
  /** The winning revision after the write (with _id and _rev). */
  doc: Record<string, unknown>;
  /** The winning revision before the write, for UPDATED and DELETED (parsed on first read). */
  readonly old?: Record<string, unknown>;
}

export type Unsubscribe = () => void;

export interface EventBus {
  publish(event: DocEvent): void;
  /** Listen to every event of one instance (and optionally one doctype); domain `*` listens to every instance. */
  subscribe(domain: string, doctype: string | null, listener: (event: DocEvent) => void): Unsubscribe;
}

export class InProcessBus implements EventBus {
  private readonly listeners = new Map<string, Set<(event: DocEvent) => void>>();

  publish(event: DocEvent): void {
    for (const key of [`${event.domain}\n${event.doctype}`, `${event.domain}\n*`, `*\n${event.doctype}`]) {
      const set = this.listeners.get(key);
      if (!set) continue;
      for (const listener of [...set]) {
        try {
          listener(event);
        } catch {
          // a failing listener must not break the write path or the other listeners
        }
      }
    }
  }

  subscribe(domain: string, doctype: string | null, listener: (event: DocEvent) => void): Unsubscribe {
    const key = `${domain}\n${doctype ?? '*'}`;
    let set = this.listeners.get(key);
    if (!set) {
      set = new Set();
      this.listeners.set(key, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(key);
    };
  }
}
