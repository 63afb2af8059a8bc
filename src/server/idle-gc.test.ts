import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { PerformanceObserver } from 'node:perf_hooks';
import { fullGc, IdleGc, type IdleGcOptions } from './idle-gc.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const get = (server: Server) => new Promise<number>((resolve, reject) => {
  const req = request({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, agent: false }, (res) => {
    res.resume();
    res.on('end', () => resolve(res.statusCode!));
  });
  req.on('error', reject);
  req.end();
});
/** Waits until `cond` holds (at most 5 s). */
async function until(cond: () => boolean): Promise<void> {
  for (let t = 0; t < 500 && !cond(); t++) await sleep(10);
}

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function server(delayMs = 0): Promise<Server> {
  const s = createServer((_req, res) => void setTimeout(() => res.end('ok'), delayMs));
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise((r) => s.close(r)));
  return s;
}

function idleGc(idleMs: number, opts: Partial<IdleGcOptions> = {}): IdleGc {
  const gc = new IdleGc({ idleMs, checkMs: 10, trimAfterMs: 10, trim: () => undefined, ...opts });
  cleanups.push(() => gc.stop());
  return gc;
}

describe('fullGc', () => {
  it('collects what nothing references, and leaves the global gc as it was', async () => {
    const before = (globalThis as { gc?: unknown }).gc;
    let target: object | null = { big: new Array(1000).fill('x') };
    const ref = new WeakRef(target);
    target = null;
    await sleep(0); // a WeakRef's target is kept until the end of the job that made it
    fullGc()();
    expect(ref.deref()).toBeUndefined();
    expect((globalThis as { gc?: unknown }).gc).toBe(before);
    expect(fullGc()).toBe(fullGc()); // obtained once
  });
});

/** The kinds of the garbage collections that `fn` causes, once they are over (4: a mark-compact, 1: a scavenge). */
async function collectionsDuring(fn: () => Promise<void>): Promise<number[]> {
  const kinds: number[] = [];
  const observer = new PerformanceObserver((list) => kinds.push(...list.getEntries().map((e) => (e as unknown as { detail: { kind: number } }).detail.kind)));
  observer.observe({ entryTypes: ['gc'] });
  try {
    await fn();
    await sleep(50); // the entries come in a later task
  } finally {
    observer.disconnect();
  }
  return kinds;
}

describe('IdleGc', () => {
  it('gives the trim up when a request comes between the collection and the trim, and collects and trims in the next idle period', async () => {
    const s = await server();
    let trims = 0;
    const gc = idleGc(150, { trimAfterMs: 300, trim: () => void trims++ });
    gc.watch(s);
    await until(() => gc.collections === 1);
    expect(await get(s)).toBe(200); // within the 300 ms before the trim
    await sleep(400);
    expect(trims).toBe(0);
    await until(() => gc.trims === 1);
    expect(gc.collections).toBe(2);
    expect(trims).toBe(1);
  });

  it('collects (a mark-compact) and trims the C heap after it', async () => {
    let trims = 0;
    const gc = idleGc(100, { trim: () => void trims++ });
    const kinds = await collectionsDuring(() => until(() => gc.trims === 1));
    expect(kinds).toContain(4);
    expect(gc.collections).toBe(1);
    expect(trims).toBe(1);
  });

  it('collects once per idle period, and again only after a request', async () => {
    const s = await server();
    const gc = idleGc(150);
    gc.watch(s);
    await until(() => gc.collections === 1);
    expect(gc.collections).toBe(1);
    await sleep(400); // still idle: no second collection
    expect(gc.collections).toBe(1);
    expect(await get(s)).toBe(200);
    await until(() => gc.collections === 2);
    expect(gc.collections).toBe(2);
  });

  it('does not collect while requests keep coming', async () => {
    const s = await server();
    const gc = idleGc(400);
    gc.watch(s);
    for (let i = 0; i < 10; i++) {
      expect(await get(s)).toBe(200);
      await sleep(50);
    }
    expect(gc.collections).toBe(0);
  });

  it('does not collect while a request is under way, however long it takes', async () => {
    const s = await server(600);
    const gc = idleGc(100);
    gc.watch(s);
    const answer = get(s);
    await sleep(450);
    expect(gc.collections).toBe(0);
    expect(await answer).toBe(200);
    await until(() => gc.collections === 1);
    expect(gc.collections).toBe(1);
  });

  it('stops', async () => {
    const gc = new IdleGc({ idleMs: 20, checkMs: 10 });
    gc.stop();
    await sleep(100);
    expect(gc.collections).toBe(0);
  });
});
