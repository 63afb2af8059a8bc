/**
 * The hot path: the public server looks the Host up once per request (one registry lookup for an instance's own host,
 * two for an app host: itself, then its instance) and reads the instance's move state once, for the gates of a blocked
 * or moved instance, the app hosts and the API together. The real server, with counters around its real registry and
 * move states.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestHearth, rawRequest, type TestHearth } from '../../test/helpers/hearth.js';

let t: TestHearth;
const calls = { findByHost: [] as string[], moveState: 0 };

beforeAll(async () => {
  t = await startTestHearth();
  const registry = t.hearth.registry;
  const findByHost = registry.findByHost.bind(registry);
  registry.findByHost = async (host: string) => {
    calls.findByHost.push(host);
    return findByHost(host);
  };
  const states = t.hearth.moveStates;
  const get = states.get.bind(states);
  states.get = async (id: string) => {
    calls.moveState++;
    return get(id);
  };
}, 60_000);

afterAll(async () => {
  await t?.close();
});

beforeEach(() => {
  calls.findByHost = [];
  calls.moveState = 0;
});

describe('the instance of a request', () => {
  it('is looked up once on the instance host, its move state read once, for the API', async () => {
    const token = await t.cliToken('io.cozy.notes');
    const created = await t.req('POST', '/data/io.cozy.notes/', { token, body: { title: 'one lookup' } });
    expect(created.status).toBe(201);
    calls.findByHost = [];
    calls.moveState = 0;
    const read = await t.req('GET', `/data/io.cozy.notes/${String(created.body.id)}`, { token });
    expect(read.status).toBe(200);
    expect(read.body.title).toBe('one lookup');
    expect(calls.findByHost).toEqual([t.domain]);
    expect(calls.moveState).toBe(1);
  });

  it('is looked up once on an app host (its own host, then its instance), its move state read once', async () => {
    const res = await rawRequest(t.port, 'GET', '/', { host: `drive.${t.domain}`, headers: { accept: 'text/html' } });
    // the app server answers for the instance's app host (the built-in Drive, or its 404 page when it is not installed)
    expect([200, 302, 404]).toContain(res.status);
    expect(res.headers['content-security-policy']).toBeDefined();
    expect(calls.findByHost).toEqual([`drive.${t.domain}`, t.domain]);
    expect(calls.moveState).toBe(1);
  });

  it('answers 404 for an unknown host, without a move state to read', async () => {
    const res = await rawRequest(t.port, 'GET', '/data/io.cozy.notes/x', { host: 'nowhere.invalid' });
    expect(res.status).toBe(404);
    expect(calls.moveState).toBe(0);
    expect(calls.findByHost).toEqual(['nowhere.invalid', 'invalid']);
  });
});
