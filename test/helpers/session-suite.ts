/**
 * The conformance suite of a session store with its security events (src/auth/sessions.ts SessionStore): SQLite runs
 * it (sessions.test.ts), PostgreSQL runs it unchanged (sessions-pg.test.ts). `make(now)` gives a fresh, empty store on
 * the clock `now`; `settle` waits for the writes a store may defer (`last_seen`); `done` disposes of it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SESSION_MAX_MS, TOUCH_EVERY_MS, type SessionStore } from '../../src/auth/sessions.js';
import type { Instance } from '../../src/instances/types.js';
import { maskEmail } from '../../src/auth/security-events.js';

export interface SessionStoreEngine {
  make(now: () => number): Promise<SessionStore>;
  settle(store: SessionStore): Promise<void>;
  done(store: SessionStore): Promise<void>;
}

export function describeSessionStore(name: string, engine: SessionStoreEngine): void {
  describe(`session store conformance: ${name}`, () => {
    const alice = { id: 'inst-alice' } as Instance;
    const bob = { id: 'inst-bob' } as Instance;
    let clock = 1_700_000_000_000;
    let store: SessionStore;
    beforeEach(async () => {
      store = await engine.make(() => clock);
    });
    afterEach(() => engine.done(store));

    it('stores the kind, web by default, and lists one kind apart, oldest first', async () => {
      const web = await store.create(alice, { userAgent: 'Firefox', ip: '192.0.2.1' });
      clock += 1;
      const app = await store.create(alice, { userAgent: 'hearth-cli', kind: 'app-token' });
      expect(await store.get(web.id)).toEqual(web);
      expect((await store.get(app.id))?.kind).toBe('app-token');
      expect((await store.list(alice)).map((s) => s.id)).toEqual([web.id, app.id]);
      expect((await store.list(alice, 'web')).map((s) => s.id)).toEqual([web.id]);
      expect((await store.list(alice, 'app-token')).map((s) => s.id)).toEqual([app.id]);
      expect(await store.list(bob)).toEqual([]);
    });

    it('forgets expired sessions, caps the lifetime at 30 days and keeps at most 512 characters of the user agent', async () => {
      const gone = await store.create(alice, {}, -1000);
      expect(await store.get(gone.id)).toBeNull();
      expect(await store.list(alice)).toEqual([]);
      const long = await store.create(alice, { userAgent: 'x'.repeat(2000) }, 10 * SESSION_MAX_MS);
      expect(long.expiresAt - long.createdAt).toBe(SESSION_MAX_MS);
      expect((await store.get(long.id))?.userAgent).toHaveLength(512);
      clock += SESSION_MAX_MS;
      expect(await store.get(long.id)).toBeNull();
      expect(await store.get('f'.repeat(32))).toBeNull();
    });

    it('records a use at most once a minute', async () => {
      const s = await store.create(alice);
      const start = s.lastSeen;
      clock += TOUCH_EVERY_MS / 2;
      await store.touch((await store.get(s.id))!);
      await engine.settle(store);
      expect((await store.get(s.id))?.lastSeen).toBe(start);
      clock += TOUCH_EVERY_MS;
      await store.touch((await store.get(s.id))!);
      await engine.settle(store);
      expect((await store.get(s.id))?.lastSeen).toBe(clock);
    });

    it('deletes one session, one of an instance only, the others of an instance, all of an instance', async () => {
      const [a1, a2, a3] = [await store.create(alice), await store.create(alice), await store.create(alice)];
      const b1 = await store.create(bob);
      await store.delete(a1.id);
      expect(await store.get(a1.id)).toBeNull();
      expect(await store.deleteOf(alice, b1.id)).toBe(false); // another instance's session
      expect(await store.get(b1.id)).not.toBeNull();
      expect(await store.deleteOf(alice, a2.id)).toBe(true);
      expect(await store.deleteOf(alice, a2.id)).toBe(false);
      const a4 = await store.create(alice);
      expect(await store.deleteOthers(alice, a4.id)).toBe(1);
      expect(await store.get(a3.id)).toBeNull();
      expect((await store.list(alice)).map((s) => s.id)).toEqual([a4.id]);
      await store.deleteAll(alice);
      expect(await store.list(alice)).toEqual([]);
      expect(await store.get(b1.id)).not.toBeNull();
    });

    it('keeps the security events of each instance, newest first, page by page, for 180 days', async () => {
      await store.events.record(alice, 'login_failed', { ip: '192.0.2.9', userAgent: 'y'.repeat(600) });
      clock += 1000;
      await store.events.record(alice, 'login', { ip: '192.0.2.9', userAgent: ['not', 'a string'] });
      await store.events.record(alice, 'session_revoked');
      await store.events.record(bob, 'login');
      const all = await store.events.list(alice, 10);
      expect(all.events.map((e) => e.kind)).toEqual(['session_revoked', 'login', 'login_failed']);
      expect(all).toMatchObject({ next: null, total: 3 });
      expect(all.events[2]).toMatchObject({ ip: '192.0.2.9', at: clock - 1000 });
      expect(all.events[2]!.userAgent).toHaveLength(512);
      expect(all.events[1]!.userAgent).toBeNull();
      const first = await store.events.list(alice, 2);
      expect(first.events).toHaveLength(2);
      expect(first.next).toBe(first.events[1]!.id);
      const second = await store.events.list(alice, 2, first.next!);
      expect(second.events.map((e) => e.kind)).toEqual(['login_failed']);
      expect(second.next).toBeNull();
      clock += 180 * 24 * 3600 * 1000 - 500; // the first event is older than 180 days
      expect((await store.events.list(alice, 10)).events.map((e) => e.kind)).toEqual(['session_revoked', 'login']);
      await store.events.deleteAll(alice);
      expect(await store.events.list(alice, 10)).toEqual({ events: [], next: null, total: 0 });
      expect((await store.events.list(bob, 10)).total).toBe(1);
    });

    it('keeps what an event is about: the e-mail events\' addresses, masked when recorded', async () => {
      await store.events.record(alice, 'email_change_requested', { ip: '192.0.2.9' }, { from: maskEmail('alice@example.org'), to: maskEmail('new.alice@example.net') });
      await store.events.record(alice, 'email_changed', {}, { from: maskEmail(null), to: maskEmail('x@y') });
      await store.events.record(alice, 'login');
      const { events } = await store.events.list(alice, 10);
      expect(events.map((e) => [e.kind, e.detail])).toEqual([
        ['login', null], ['email_changed', { from: null, to: 'x***@y' }], ['email_change_requested', { from: 'a***@example.org', to: 'n***@example.net' }],
      ]);
      expect(events[2]).toMatchObject({ ip: '192.0.2.9', userAgent: null });
    });
  });
}
