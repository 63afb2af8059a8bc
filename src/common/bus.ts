/**
 * The internal event bus. Every document write publishes one event after it is
 * durable; realtime, triggers, sharing and the changes feed's longpoll consume it.
 * In-process implementation here; coordination.engine redis: src/coordination/redis-bus.ts.
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

/**
 * A bus that sends the events of some doctypes to `side` instead of `main` (and the others to `main`): the job mirror's
 * writes of io.cozy.jobs (jobs/mirror.ts) must not reach realtime and the triggers a second time, the engine has
 * published them already.
 */
export function divertBus(main: EventBus, doctypes: ReadonlySet<string>, side: EventBus): EventBus {
  return {
    publish: (event) => (doctypes.has(event.doctype) ? side : main).publish(event),
    subscribe: (domain, doctype, listener) => main.subscribe(domain, doctype, listener),
  };
}

/** A bus that publishes to `main` and whose listeners hear both `main` and `side` (/data's changes feeds wait on the mirror's writes too). */
export function mergeBuses(main: EventBus, side: EventBus): EventBus {
  return {
    publish: (event) => main.publish(event),
    subscribe(domain, doctype, listener) {
      const both = [main.subscribe(domain, doctype, listener), side.subscribe(domain, doctype, listener)];
      return () => both.forEach((unsubscribe) => unsubscribe());
    },
  };
}
