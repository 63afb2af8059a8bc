/** An app or konnector of an imported archive, installed again from the registry (`registry://<slug>/stable`). */
import { Conflict } from '../../common/errors.js';
import type { Installer } from '../../apps/install/installer.js';
import type { Instance } from '../../instances/types.js';

export async function reinstall(installer: Installer, instance: Instance, kind: 'webapp' | 'konnector', slug: string): Promise<'installed' | 'kept'> {
  let op;
  try {
    op = await installer.install(instance, kind, slug, { source: `registry://${slug}/stable` });
  } catch (err) {
    // installed already (the reset keeps the built-in apps): nothing to do
    if (err instanceof Conflict) return 'kept';
    throw err;
  }
  const outcome = await op.done;
  if (outcome.error) throw outcome.error;
  return 'installed';
}
