/**
 * A conditional WebDAV PUT is one atomic step: the If-Match is checked again where the overwrite commits, so that
 * of 30 parallel PUTs made with the same ETag exactly one wins and the 29 others get 412 (no lost update).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type TestHearth } from '../../../test/helpers/hearth.js';

let h: TestHearth;
let auth: string;

beforeAll(async () => {
  h = await startTestHearth();
  auth = `Bearer ${await h.cliToken('io.cozy.files')}`;
});
afterAll(() => h.close());

describe('PUT with If-Match', () => {
  it('lets one of 30 parallel PUTs with the same ETag win and answers 412 to the 29 others', async () => {
    const first = await h.req('PUT', '/dav/files/race.txt', { headers: { authorization: auth }, raw: 'version 0' });
    expect(first.status).toBe(201);
    const etag = String(first.headers.etag);
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) =>
      h.req('PUT', '/dav/files/race.txt', { headers: { authorization: auth, 'if-match': etag }, raw: `version from writer ${i}` })));
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s === 204)).toHaveLength(1);
    expect(statuses.filter((s) => s === 412)).toHaveLength(29);
    const winner = answers.findIndex((r) => r.status === 204);
    const now = await h.req('GET', '/dav/files/race.txt', { headers: { authorization: auth } });
    expect(now.text).toBe(`version from writer ${winner}`);
    expect(now.headers.etag).toBe(answers[winner]!.headers.etag);
  });

  it('still lets parallel unconditional PUTs all overwrite (the last write wins)', async () => {
    expect((await h.req('PUT', '/dav/files/plain.txt', { headers: { authorization: auth }, raw: 'plain' })).status).toBe(201);
    const answers = await Promise.all(Array.from({ length: 5 }, (_, i) =>
      h.req('PUT', '/dav/files/plain.txt', { headers: { authorization: auth }, raw: `plain ${i}` })));
    expect(answers.map((r) => r.status)).toEqual([204, 204, 204, 204, 204]);
  });
});
