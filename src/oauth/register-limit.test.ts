import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestHearth, type TestHearth } from '../../test/helpers/hearth.js';

let h: TestHearth;
beforeAll(async () => {
  h = await startTestHearth();
});
afterAll(async () => h?.close());

const body = { redirect_uris: ['https://app.example/cb'], client_name: 'c', software_id: 's' };

it('limits registrations to 50 an hour per instance (429 + Retry-After), the real wiring', async () => {
  for (let i = 0; i < 50; i++) {
    const r = await h.req('POST', '/auth/register', { body });
    expect(r.status).toBe(201);
  }
  const r = await h.req('POST', '/auth/register', { body });
  expect(r.status).toBe(429);
  expect(Number(r.headers['retry-after'])).toBeGreaterThan(0);
  // Another instance keeps its own budget.
  expect((await h.req('POST', '/auth/register', { body, host: h.otherDomain })).status).toBe(201);
});
