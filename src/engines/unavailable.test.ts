import { describe, expect, it } from 'vitest';
import { freePort } from '../../test/helpers/ports.js';
import { toHearthError } from '../server/http-errors.js';
import { createPgPool } from './postgres.js';
import { createRedisConnections } from './redis.js';
import { unavailableDependency } from './unavailable.js';

describe('an unreachable database or Redis', () => {
  it('is a 503 that says to retry, not a 500', async () => {
    const port = await freePort();
    const pool = createPgPool({ url: `postgres://postgres@127.0.0.1:${port}/hearth`, max: 1, name: 'test' });
    const pgError = await pool.query('SELECT 1').then(() => null, (e: unknown) => e);
    await pool.end();
    expect(unavailableDependency(pgError)).toBe('database');
    const mapped = toHearthError(pgError);
    expect(mapped?.status).toBe(503);
    expect(mapped?.reason).toMatch(/database server is unreachable.*retry/);
    expect(mapped?.headers['Retry-After']).toBe('5');

    const redis = createRedisConnections(`redis://127.0.0.1:${port}/0`, 'hearth:', 'test');
    const redisError = await redis.commands.get('k').then(() => null, (e: unknown) => e);
    await redis.close();
    expect(unavailableDependency(redisError)).toBe('coordination');
    expect(toHearthError(redisError)?.status).toBe(503);
  });

  it('leaves other errors alone', () => {
    expect(unavailableDependency(new Error('boom'))).toBeNull();
    expect(unavailableDependency({ code: '23505' })).toBeNull();
    expect(toHearthError(new Error('boom'))).toBeNull();
  });
});
