/** Schema refusals seen from a client: the request must get a 400, and the test reads the error's detail. */
import { expect } from 'vitest';
import type { TestHearth } from './hearth.js';

/** `detail(method, path, body)` for the server `hearth()` returns once started (a getter: tests start it in beforeAll). */
export const badRequestDetail = (hearth: () => TestHearth) => async (method: string, path: string, body: unknown): Promise<string> => {
  const res = await hearth().req(method, path, { body });
  expect(res.status).toBe(400);
  return res.body.errors[0].detail as string;
};
