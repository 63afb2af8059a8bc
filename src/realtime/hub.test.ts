/** The in-process realtime hub over the real in-process bus. */
import { describe, expect, it } from 'vitest';
import { InProcessBus, type DocEvent } from '../common/bus.js';
import { InProcessHub, type WireEvent } from './hub.js';

/** The hub fans out once the publishing turn is over. */
const turn = () => new Promise((resolve) => setImmediate(resolve));

function setup() {
  const bus = new InProcessBus();
  const hub = new InProcessHub(bus);
  const open = (domain = 'a.test') => {
    const got: WireEvent[] = [];
    const sub = hub.open(domain, (e) => got.push(e), { maxSubscriptions: 3 });
    return { sub, got, parsed: () => got.map((e) => JSON.parse(e.json) as { event: string; payload: { type: string; id: string; doc: unknown } }) };
  };
  const publish = (e: Partial<DocEvent> & { id: string }) => bus.publish({ domain: 'a.test', doctype: 'io.cozy.contacts', verb: 'CREATED', doc: { _id: e.id }, ...e });
  return { bus, hub, open, publish };
}

describe('InProcessHub', () => {
  it('encodes an event once and hands the same bytes to every subscriber of the topic', async () => {
    const { open, publish } = setup();
    const subs = [open(), open(), open()];
    subs[0]!.sub.subscribe('io.cozy.contacts');
    subs[1]!.sub.subscribe('io.cozy.contacts');
    subs[2]!.sub.subscribe('io.cozy.contacts', 'x');
    publish({ id: 'x', doc: { _id: 'x', n: 1 } });
    expect(subs[0]!.got).toEqual([]); // not on the publisher's turn
    await turn();
    const events = subs.map((s) => s.got[0]!);
    expect(new Set(events).size).toBe(1);
    expect(events[0]!.ws).toBe(events[2]!.ws);
    expect(events[0]!.json).toBe('{"event":"CREATED","payload":{"type":"io.cozy.contacts","id":"x","doc":{"_id":"x","n":1}}}');
    expect(events[0]!.sse.toString()).toBe(`data: ${events[0]!.json}\n\n`);
  });

  it('sends once to a subscriber on the doctype and on the id; an id watch sees only its id', async () => {
    const { open, publish } = setup();
    const both = open();
    both.sub.subscribe('io.cozy.contacts');
    both.sub.subscribe('io.cozy.contacts', 'x');
    const one = open();
    one.sub.subscribe('io.cozy.contacts', 'x');
    publish({ id: 'x' });
    publish({ id: 'y' });
    await turn();
    expect(both.parsed().map((e) => e.payload.id)).toEqual(['x', 'y']);
    expect(one.parsed().map((e) => e.payload.id)).toEqual(['x']);
  });

  it('keeps instances apart', async () => {
    const { open, publish, bus } = setup();
    const a = open('a.test');
    const b = open('b.test');
    a.sub.subscribe('io.cozy.contacts');
    b.sub.subscribe('io.cozy.contacts');
    publish({ id: 'x' });
    bus.publish({ domain: 'b.test', doctype: 'io.cozy.contacts', id: 'z', verb: 'CREATED', doc: { _id: 'z' } });
    await turn();
    expect(a.parsed().map((e) => e.payload.id)).toEqual(['x']);
    expect(b.parsed().map((e) => e.payload.id)).toEqual(['z']);
  });

  it('shows a deleted document as it was, with the tombstone rev', async () => {
    const { open, bus } = setup();
    const a = open();
    a.sub.subscribe('io.cozy.contacts');
    bus.publish({ domain: 'a.test', doctype: 'io.cozy.contacts', id: 'x', verb: 'DELETED', doc: { _id: 'x', _rev: '3-b', _deleted: true }, old: { _id: 'x', _rev: '2-a', name: 'Ada' } });
    await turn();
    expect(a.parsed()[0]).toEqual({ event: 'DELETED', payload: { type: 'io.cozy.contacts', id: 'x', doc: { _id: 'x', _rev: '3-b', name: 'Ada', _deleted: true } } });
  });

  it('unsubscribes as cozy-stack: without an id, the doctype and its ids; topics go when empty', async () => {
    const { hub, open, publish } = setup();
    const a = open();
    a.sub.subscribe('io.cozy.contacts');
    a.sub.subscribe('io.cozy.contacts', 'x');
    expect(a.sub.size).toBe(2);
    a.sub.unsubscribe('io.cozy.contacts', 'x');
    publish({ id: 'x' });
    await turn();
    expect(a.got).toHaveLength(1); // still on the whole doctype
    a.sub.subscribe('io.cozy.contacts', 'x');
    a.sub.unsubscribe('io.cozy.contacts');
    expect(a.sub.size).toBe(0);
    expect(hub.listeners('a.test', 'io.cozy.contacts')).toBe(0);
    publish({ id: 'x' });
    await turn();
    expect(a.got).toHaveLength(1);
  });

  it('caps subscriptions, counts connections, and survives a failing sink', async () => {
    const { hub, open, publish } = setup();
    const a = open();
    expect(['t.a', 't.b', 't.c', 't.d'].map((t) => a.sub.subscribe(t))).toEqual([true, true, true, false]);
    expect(a.sub.subscribe('t.a')).toBe(true); // already there
    const broken = hub.open('a.test', () => {
      throw new Error('socket gone');
    });
    broken.subscribe('io.cozy.contacts');
    const b = open();
    b.sub.subscribe('io.cozy.contacts');
    expect(hub.connectionCount()).toBe(3);
    publish({ id: 'x' });
    await turn();
    expect(b.got).toHaveLength(1);
    broken.close();
    a.sub.close();
    expect(hub.connectionCount()).toBe(1);
    expect(hub.listeners('a.test', 't.a')).toBe(0);
  });

  it('sends NOTIFIED to the subscribers only, never on the bus', async () => {
    const { hub, open, bus } = setup();
    const onBus: DocEvent[] = [];
    bus.subscribe('a.test', 'io.cozy.jobs', (e) => onBus.push(e));
    const a = open();
    a.sub.subscribe('io.cozy.jobs', 'j');
    hub.notify('a.test', 'io.cozy.jobs', 'j', { _id: 'j', step: 1 });
    hub.notify('b.test', 'io.cozy.jobs', 'j', { _id: 'j', step: 2 });
    await turn();
    expect(a.parsed()).toEqual([{ event: 'NOTIFIED', payload: { type: 'io.cozy.jobs', id: 'j', doc: { _id: 'j', step: 1 } } }]);
    expect(onBus).toEqual([]);
  });
});
