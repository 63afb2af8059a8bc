/** The schemas of /notifications: what they check is refused before the token is looked at, with the messages the handlers gave. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type TestHearth } from '../../test/helpers/hearth.js';
import { badRequestDetail } from '../../test/helpers/refusals.js';

let h: TestHearth;
beforeAll(async () => {
  h = await startTestHearth();
});
afterAll(() => h.close());

const detail = badRequestDetail(() => h);
const send = (attributes: unknown, type?: string) => detail('POST', '/notifications', { data: { ...(type ? { type } : {}), attributes } });

describe('/notifications schemas', () => {
  it('refuse a bad notification before the token check', async () => {
    expect(await detail('POST', '/notifications', { category: 'x' })).toMatch(/^the body must be JSON-API: \{"data"/);
    expect(await send([])).toMatch(/^the body must be JSON-API/);
    expect(await send({ category: 'c', title: 't' }, 'io.cozy.files')).toBe('data.type must be "io.cozy.notifications"');
    expect(await send({ category: 5, title: 't' })).toBe('Notification is not valid: "category" must be a string');
    expect(await send({ category: 'c', title: ['t'] })).toBe('Notification is not valid: "title" must be a string');
    expect(await send({ category: 'c', title: 't', priority: 'urgent' })).toBe('"priority" must be "high" or "normal"');
    expect(await send({ category: 'c', title: 't', state: {} })).toBe('"state" must be a string, a number or a boolean');
    expect(await send({ category: 'c', title: 't', preferred_channels: ['pigeon'] })).toBe('"preferred_channels" must be a list of "mobile", "mail", "sms"');
    expect(await send({ category: 'c', title: 't', data: [1] })).toBe('"data" must be an object (a key/value map)');
    // what the schema lets through goes on to the credentials
    expect((await h.req('POST', '/notifications', { body: { data: { attributes: { category: 'c', title: 't', priority: null, preferred_channels: ['mail'] } } } })).status).toBe(401);
  });

  it('refuse bad preferences before the session check', async () => {
    expect(await detail('PUT', '/notifications/preferences', { categories: {} })).toBe('the body must be JSON-API: {"data": {"attributes": {"categories": {"system": {"mail": false}}}}}');
    const many = Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`c${i}`, { mail: false }]));
    expect(await detail('PATCH', '/notifications/preferences', { data: { attributes: { categories: many } } })).toBe('at most 1000 categories at once');
    expect((await h.req('PATCH', '/notifications/preferences', { body: { data: { attributes: { categories: { system: { mail: false } } } } } })).status).toBe(401);
  });
});
