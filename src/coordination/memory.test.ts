/** The coordination suite on the memory engine (one process: its two "processes" are the same objects). */
import { coordinationSuite } from '../../test/helpers/coordination-suite.js';
import { MemoryLockOut } from '../limits/index.js';
import { memoryCoordination } from './index.js';

coordinationSuite('memory', async () => {
  const c = memoryCoordination();
  const lockOuts = new Map<string, MemoryLockOut>();
  const one = {
    ...c,
    lockOut: (name: string, opts: ConstructorParameters<typeof MemoryLockOut>[0]) => lockOuts.get(name) ?? lockOuts.set(name, new MemoryLockOut(opts)).get(name)!,
  };
  return [one, one];
});
