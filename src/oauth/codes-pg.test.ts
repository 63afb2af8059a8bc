/**
 * OAuth access codes on PostgreSQL: the conformance suite of every engine, then two stores on two pools of one database
 * (two hearth processes): a code issued by one is taken by the other, once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeAccessCodes } from '../../test/helpers/access-codes-suite.js';
import { startPgState, type PgStateServer } from '../../test/helpers/pg-state.js';
import { PgAccessCodes } from './codes-pg.js';

let pg: PgStateServer;
beforeAll(async () => {
  pg = await startPgState();
});
afterAll(() => pg.close());

describeAccessCodes('PostgreSQL', async (now, ttlMs) => new PgAccessCodes(pg.pool(await pg.database()), { now, ttlMs }));

describe('PostgreSQL access codes in two processes', () => {
  it('a code issued by one process is taken by the other, and only once', async () => {
    const url = await pg.database();
    const [a, b] = [new PgAccessCodes(pg.pool(url)), new PgAccessCodes(pg.pool(url))];
    const code = await a.create({ instanceId: 'i', clientId: 'c', redirectUri: 'https://app.example/cb', scope: 'io.cozy.files', codeChallenge: null });
    const [x, y] = await Promise.all([b.take(code), a.take(code)]);
    expect([x.ok, y.ok].filter(Boolean)).toHaveLength(1);
    expect(x.ok ? x.code : y.ok ? y.code : null).toMatchObject({ clientId: 'c', redirectUri: 'https://app.example/cb', scope: 'io.cozy.files' });
  });
});
