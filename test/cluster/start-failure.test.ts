/**
 * test/helpers/cluster.ts when a cluster start fails half-way: a hearth process that does not come up (a setting it
 * refuses), then HAProxy refusing its configuration (a port out of range). Each time the error names the part that
 * failed, and what was already up (PostgreSQL, Redis, the hearth processes, HAProxy) is stopped and its folder removed:
 * no child process of this test is left, no folder the start made is left.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ClusterStartError, startCluster } from '../helpers/cluster.js';

/** The live child processes of this test process (their pid and command). */
function children(): string[] {
  const out = execFileSync('ps', ['-o', 'pid=,stat=,args=', '--ppid', String(process.pid)], { encoding: 'utf8' });
  // zombies are reaped by Node on its next tick; ps is the one running this command
  return out.split('\n').map((l) => l.trim()).filter((l) => l && !/^\d+\s+Z/.test(l) && !/\sps -o /.test(l));
}

async function failedStart(opts: Parameters<typeof startCluster>[0]): Promise<ClusterStartError> {
  const before = children();
  const err = await startCluster(opts).then(
    async (c) => {
      await c.stop();
      throw new Error('the cluster started');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ClusterStartError);
  const e = err as ClusterStartError;
  for (const pid of e.stopped.pids) expect(() => process.kill(pid, 0), `hearth ${pid} still runs`).toThrow();
  for (const dir of e.stopped.dirs) expect(existsSync(dir), dir).toBe(false);
  expect(children()).toEqual(before);
  return e;
}

describe('a cluster start that fails half-way', () => {
  it('stops the servers and the hearth processes up when one hearth process does not come up', async () => {
    const e = await failedStart({ processes: 2, swift: false, scope: 'io.cozy.x', procEnv: (i): Record<string, string> => (i === 1 ? { HEARTH_DOCS_POOL_SIZE: 'many' } : {}) });
    expect(e.part).toBe('hearth process 2 of 2');
    expect(e.message).toMatch(/hearth process 2 of 2 failed: hearth exited with \d+: .*pool/is);
    // PostgreSQL's and Redis's folders, and the data folder of the process that came up
    expect(e.stopped.pids).toHaveLength(1);
    expect(e.stopped.dirs).toHaveLength(3);
  }, 60_000);

  it('stops the servers and every hearth process when HAProxy fails', async () => {
    const e = await failedStart({ processes: 1, swift: false, scope: 'io.cozy.x', proxyPort: 70000 });
    expect(e.part).toBe('haproxy');
    expect(e.message).toMatch(/haproxy failed: haproxy -c refused the configuration:.*invalid port '70000'/s);
    expect(e.stopped.pids).toHaveLength(1);
  }, 60_000);
});
