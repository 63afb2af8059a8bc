import { NotFound } from '../common/errors.js';
import { normalizeHost } from './domain.js';
import type { Instance, InstanceRegistry } from './types.js';

/** An instance by its domain or one of its aliases (the dev instance is also localhost:<port>), as the admin API is given it. */
export async function findInstance(registry: Pick<InstanceRegistry, 'get' | 'findByHost'>, raw: string): Promise<Instance> {
  const instance = (await registry.get(normalizeHost(raw))) ?? (await registry.findByHost(raw));
  if (!instance) throw new NotFound(`no instance for ${raw}`);
  return instance;
}
