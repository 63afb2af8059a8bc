/**
 * GET /settings/disk-usage, as cozy-stack's settings API: bytes used (every file, trashed ones and
 * old versions too, then each apart), the quota when there is one, with `include=trash` the bytes in the trash, and with
 * `include=categories` (Hearth's own) the other files' bytes by category (documents, images, videos, audio, others). Allowed to a token
 * with GET on io.cozy.settings (or this document), to web apps (their token needs the owner's
 * session), and to tokens that may write some directory (share links with upload).
 */
import type { FastifyInstance } from 'fastify';
import { Forbidden } from '../../common/errors.js';
import type { Instance } from '../../instances/types.js';
import { Permissions, type PermissionSet } from '../../permissions/rules.js';
import type { Vfs } from '../vfs.js';
import { FILES_DOCTYPE } from '../types.js';
import { VERSIONS_DOCTYPE } from '../versions.js';
import { callerOf } from './access.js';
import { param } from './params.js';
import { JSONAPI } from './serialize.js';
import type { FilesDeps } from './deps.js';
import * as S from './schemas.js';

export const SETTINGS_DOCTYPE = 'io.cozy.settings';
export const DISK_USAGE_ID = 'io.cozy.settings.disk-usage';

function mayRead(set: PermissionSet): boolean {
  if (Permissions.allowsDoc(set, 'GET', SETTINGS_DOCTYPE, { id: DISK_USAGE_ID, fetch: () => [] })) return true;
  if (set.type === 'app') return true;
  return set.rules.some((r) => Permissions.allowsDoc({ ...set, rules: [{ ...r, values: undefined, selector: undefined }] }, 'POST', FILES_DOCTYPE, { id: '', fetch: () => [] }));
}

async function versionsUsage(vfs: Vfs, instance: Instance): Promise<number> {
  const res = await vfs.fs.store(instance).allDocs(VERSIONS_DOCTYPE, { include_docs: true });
  return res.rows.reduce((n, r) => n + (r.doc && !r.doc._deleted ? Number(r.doc.size ?? 0) : 0), 0);
}

/** The categories a person reads on a storage page, from the files' `class` (types.ts classOf). */
export const CATEGORIES = ['documents', 'images', 'videos', 'audio', 'others'] as const;
type Category = (typeof CATEGORIES)[number];
const CATEGORY_OF: Record<string, Category> = {
  image: 'images', video: 'videos', audio: 'audio', text: 'documents', pdf: 'documents', spreadsheet: 'documents', slide: 'documents',
};

/**
 * One pass over the files' index (only `size`, `class` and `trashed` read, a page of 1,000 at a time): the bytes in the
 * trash, and the others by category.
 */
async function usageByCategory(vfs: Vfs, instance: Instance): Promise<Record<Category | 'trash', number>> {
  const out = { documents: 0, images: 0, videos: 0, audio: 0, others: 0, trash: 0 };
  let bookmark: string | undefined;
  for (;;) {
    const page = await vfs.fs.store(instance).find(FILES_DOCTYPE, { selector: { type: 'file' }, fields: ['size', 'class', 'trashed'], limit: 1000, skip: 0, ...(bookmark ? { bookmark } : {}) });
    for (const d of page.docs) out[d.trashed === true ? 'trash' : (CATEGORY_OF[String(d.class)] ?? 'others')] += Number(d.size ?? 0);
    if (page.docs.length < 1000) return out;
    bookmark = page.bookmark;
  }
}

export function registerDiskUsageRoute(scope: FastifyInstance, deps: FilesDeps): void {
  scope.get('/settings/disk-usage', { schema: S.diskUsage }, async (req, reply) => {
    const c = await callerOf(deps.perms, req);
    if (!mayRead(c.set)) throw new Forbidden(`this token cannot read ${DISK_USAGE_ID}`);
    const used = await deps.vfs.fs.diskUsage(c.instance);
    const versions = await versionsUsage(deps.vfs, c.instance);
    const attributes: Record<string, string> = { used: String(used), files: String(used - versions), versions: String(versions) };
    if (c.instance.diskQuota !== null) attributes.quota = String(c.instance.diskQuota);
    const include = new Set(String(param(req, 'include') ?? '').split(','));
    const data = { type: SETTINGS_DOCTYPE, id: DISK_USAGE_ID, attributes: attributes as Record<string, unknown>, links: { self: '/settings/disk-usage' } };
    if (include.has('trash') || include.has('categories')) {
      const by = await usageByCategory(deps.vfs, c.instance);
      if (include.has('trash')) attributes.trash = String(by.trash);
      // Hearth's own: the bytes of the files not in the trash, by category, for the Settings app's storage page
      if (include.has('categories')) data.attributes.categories = Object.fromEntries(CATEGORIES.map((k) => [k, String(by[k])]));
    }
    return reply.type(JSONAPI).send({ data });
  });
}
