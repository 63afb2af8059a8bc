import { describe, expect, it } from 'vitest';
import type { Instance } from '../../instances/types.js';
import { jobContext } from '../../../test/helpers/job-context.js';
import { logWorker } from './log.js';

const instance = { id: 'l'.repeat(32), domain: 'l.example' } as Instance;

describe('log worker', () => {
  it('logs its message at info and succeeds', async () => {
    const w = logWorker();
    expect(w).toMatchObject({ name: 'log', maxExecCount: 1, timeoutSeconds: 1 });
    expect(w.internal).toBeFalsy();
    const { ctx, logs } = jobContext(instance, 'log', 'hello from a trigger', { collectLogs: true });
    await w.run(ctx);
    expect(logs).toEqual([expect.objectContaining({ level: 30, msg: 'hello from a trigger', job_id: ctx.job._id })]);
    const other = jobContext(instance, 'log', { a: 1 }, { collectLogs: true });
    await w.run(other.ctx);
    expect(other.logs[0]?.msg).toBe('{"a":1}');
  });
});
