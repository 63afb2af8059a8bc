/**
 * Hearth's read marks on notifications: PATCH /notifications/:id {read}, POST /notifications/read, the listing's
 * meta.unread, the UPDATED events realtime clients get, and the refusals (rights, body, unknown id).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DocEvent } from '../common/bus.js';
import { startTestHearth, type TestHearth } from '../../test/helpers/hearth.js';

let h: TestHearth;
const events: DocEvent[] = [];
const JSONAPI = { 'content-type': 'application/vnd.api+json' };
const readBody = (read: unknown) => ({ data: { type: 'io.cozy.notifications', attributes: { read } } });

beforeAll(async () => {
  h = await startTestHearth();
  h.hearth.bus.subscribe(h.domain, 'io.cozy.notifications', (e) => events.push(e));
});
afterAll(async () => {
  await h.close();
});

async function send(title: string): Promise<string> {
  const r = await h.req('POST', '/notifications', { token: await h.cliToken('io.cozy.notifications:POST'), headers: JSONAPI, body: { data: { type: 'io.cozy.notifications', attributes: { category: 'system', title } } } });
  expect(r.status, r.text).toBe(201);
  return r.body.data.id as string;
}

const list = async () => (await h.req('GET', '/notifications', { token: await h.cliToken('io.cozy.notifications:GET') })).body;

describe('notifications read / unread', () => {
  it('PATCH marks one read (read_at, UPDATED event, meta.unread) and unread again', async () => {
    const a = await send('first');
    await send('second');
    expect((await list()).meta.unread).toBe(2);
    const token = await h.cliToken('io.cozy.notifications:GET,PATCH');
    const before = events.length;
    const r = await h.req('PATCH', `/notifications/${a}`, { token, headers: JSONAPI, body: readBody(true) });
    expect(r.status, r.text).toBe(200);
    const readAt = r.body.data.attributes.read_at as string;
    expect(new Date(readAt).getTime()).toBeGreaterThan(Date.now() - 60_000);
    expect(r.body.data.attributes.title).toBe('first');
    expect(events.slice(before).map((e) => [e.verb, e.doc._id])).toEqual([['UPDATED', a]]);
    expect((await list()).meta.unread).toBe(1);
    // marking it read again keeps the first date and writes nothing
    const again = await h.req('PATCH', `/notifications/${a}`, { token, headers: JSONAPI, body: readBody(true) });
    expect(again.body.data.attributes.read_at).toBe(readAt);
    expect(again.body.data.meta.rev).toBe(r.body.data.meta.rev);
    const unread = await h.req('PATCH', `/notifications/${a}`, { token, headers: JSONAPI, body: readBody(false) });
    expect(unread.status).toBe(200);
    expect(unread.body.data.attributes).not.toHaveProperty('read_at');
    expect((await list()).meta.unread).toBe(2);
  });

  it('POST /notifications/read marks every unread one, and says how many', async () => {
    await send('third');
    const token = await h.cliToken('io.cozy.notifications:GET,PATCH');
    const unread = (await list()).meta.unread as number;
    expect(unread).toBeGreaterThan(0);
    const r = await h.req('POST', '/notifications/read', { token });
    expect(r.status, r.text).toBe(200);
    expect(r.body.meta.count).toBe(unread);
    const after = await list();
    expect(after.meta.unread).toBe(0);
    for (const d of after.data) expect(typeof d.attributes.read_at).toBe('string');
    expect((await h.req('POST', '/notifications/read', { token })).body.meta.count).toBe(0);
  });

  it('refuses a token without PATCH, a malformed body and an unknown id', async () => {
    const id = await send('fourth');
    const getOnly = await h.cliToken('io.cozy.notifications:GET');
    const denied = await h.req('PATCH', `/notifications/${id}`, { token: getOnly, headers: JSONAPI, body: readBody(true) });
    expect(denied.status).toBe(403);
    expect(denied.body.errors[0].detail).toMatch(/PATCH right/);
    expect((await h.req('POST', '/notifications/read', { token: getOnly })).status).toBe(403);
    expect((await h.req('POST', '/notifications/read', { token: await h.cliToken('io.cozy.files') })).status).toBe(403);
    const token = await h.cliToken('io.cozy.notifications:PATCH');
    const bad = await h.req('PATCH', `/notifications/${id}`, { token, headers: JSONAPI, body: readBody('yes') });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].detail).toBe('"read" must be true or false');
    expect((await h.req('PATCH', `/notifications/${id}`, { token, headers: JSONAPI, body: { read: true } })).status).toBe(400);
    expect((await h.req('PATCH', '/notifications/nope', { token, headers: JSONAPI, body: readBody(true) })).status).toBe(404);
    expect((await h.req('PATCH', `/notifications/${id}`, { headers: JSONAPI, body: readBody(true) })).status).toBe(401);
    expect((await list()).data.find((d: { id: string }) => d.id === id).attributes).not.toHaveProperty('read_at');
  });
});
