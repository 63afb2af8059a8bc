import { describe, expect, it } from 'vitest';
import { lockOutSuite } from '../../test/helpers/limits-suite.js';
import { MemoryLockOut } from './lockout.js';

// the behaviour every LockOut shares, and LoginLockOut on it (also run on Redis: src/coordination/redis.test.ts)
lockOutSuite('memory', (_name, opts) => new MemoryLockOut(opts));

describe('MemoryLockOut', () => {
  it('remembers a bounded number of keys', async () => {
    const lo = new MemoryLockOut({ threshold: 10, maxKeys: 50, now: () => 1_000_000 });
    for (let i = 0; i < 500; i++) await lo.failure(`ip-${i}`);
    expect(lo.size).toBe(50);
    await lo.failure('ip-499');
    expect((await lo.status('ip-499')).failures).toBe(2);
  });
});
