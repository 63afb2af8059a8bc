/**
 * Who may subscribe to what, as cozy-stack's web/realtime `authorized`: GET on the whole doctype, or
 * on the one document watched; for io.cozy.files the file system's one rights module decides (a grant
 * on a directory covers its subtree). Synthetic doctypes: io.cozy.files.thumbnails and
 * io.cozy.notes.events need io.cozy.files rights; io.cozy.sharings.initial_sync and
 * io.cozy.auth.confirmations need none; the theme's events are open to every app (permissions/open-events.ts); the
 * passphrase settings follow the instance settings.
 */
import { NotFound } from '../common/errors.js';
import { FileRights } from '../files/rights.js';
import { THUMBNAILS_DOCTYPE } from '../files/thumbnails/generate.js';
import { FILES_DOCTYPE } from '../files/types.js';
import type { Vfs } from '../files/vfs.js';
import type { Instance } from '../instances/types.js';
import { mayHearOpenEvent } from '../permissions/open-events.js';
import { Permissions, type PermissionSet } from '../permissions/rules.js';

const FILES_RIGHTS = new Set([THUMBNAILS_DOCTYPE, 'io.cozy.notes.events']);
const NO_RIGHTS = new Set(['io.cozy.sharings.initial_sync', 'io.cozy.auth.confirmations']);

export async function maySubscribe(vfs: Vfs, instance: Instance, set: PermissionSet, doctype: string, id: string): Promise<boolean> {
  if (NO_RIGHTS.has(doctype) || mayHearOpenEvent(set, doctype)) return true;
  const type = FILES_RIGHTS.has(doctype) ? FILES_DOCTYPE : doctype;
  const docId = type === 'io.cozy.settings' && id === 'io.cozy.settings.passphrase' ? 'io.cozy.settings.instance' : id;
  if (Permissions.allowsWholeType(set, 'GET', type)) return true;
  if (!docId) return false;
  if (type !== FILES_DOCTYPE) return Permissions.allowsDoc(set, 'GET', type, { id: docId, fetch: () => [] });
  try {
    return await new FileRights(vfs, instance, set).can('GET', await vfs.fs.stat(instance, docId));
  } catch (err) {
    if (err instanceof NotFound) return false;
    throw err;
  }
}
