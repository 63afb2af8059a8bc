/**
 * Home's wallpaper, the background the owner chooses (cozy-home's custom wallpaper; cozy-stack has no route for it,
 * cozy-home keeps it as a file of the Drive: Hearth keeps it beside the avatar, so that an app without rights on the
 * files shows it). `PUT /settings/wallpaper` (the raw image, 204) and `DELETE /settings/wallpaper` (204): the owner's
 * session from the instance's pages, or PUT on io.cozy.settings. `GET /settings/wallpaper`: the owner, or a GET right
 * on io.cozy.settings (Home has one); 404 when there is none. The image is handled as the avatar is (its signature
 * checked, decoded by sharp within a pixel limit, oriented, fitted in 2560×2560, re-encoded without metadata).
 * Each change is announced as an UPDATED realtime event of `io.cozy.settings/io.cozy.settings.wallpaper` whose document
 * says whether a wallpaper is set and its ETag (never the image), so that an open Home shows it at once. Unlike the
 * theme's event (permissions/open-events.ts), it is not open to every app: it needs a GET right on the wallpaper, as the GET.
 */
import type { FastifyInstance } from 'fastify';
import type { Readable } from 'node:stream';
import type { Instance } from '../instances/types.js';
import { NotFound } from '../common/errors.js';
import { requireOwner } from '../auth/owner.js';
import * as schemas from './schemas.js';
import { onDoc, SETTINGS_DOCTYPE, settingsCaller, type SettingsDeps } from './access.js';
import { checkAvatarType, processAvatar, readAvatarBody, WALLPAPER_LIMITS, type Avatars } from './avatar.js';

export const WALLPAPER_ID = 'io.cozy.settings.wallpaper';

/** Tells the instance's open apps that can read the wallpaper that it changed: its ETag, or null once removed. */
async function announce(deps: SettingsDeps & { wallpapers: Avatars }, instance: Instance): Promise<void> {
  const etag = (await deps.wallpapers.read(instance.id))?.etag ?? null;
  deps.bus.publish({ domain: instance.domain, doctype: SETTINGS_DOCTYPE, id: WALLPAPER_ID, verb: 'UPDATED', doc: { _id: WALLPAPER_ID, etag } });
}

export function registerWallpaperRoutes(app: FastifyInstance, deps: SettingsDeps & { wallpapers: Avatars }): void {
  void app.register(async (scope) => {
    // the body stays a stream, read with the wallpaper's own limit (a clear 413 before it is all received)
    scope.addContentTypeParser('*', (_req, payload, done) => done(null, payload));
    scope.put('/settings/wallpaper', { schema: schemas.putWallpaper }, async (req, reply) => {
      const { instance } = await requireOwner(deps, req, 'PUT');
      checkAvatarType(req.headers['content-type']);
      const body = await readAvatarBody(req.body as Readable, req.headers['content-length'], WALLPAPER_LIMITS);
      await deps.wallpapers.write(instance.id, (await processAvatar(body, WALLPAPER_LIMITS.size)).data);
      await announce(deps, instance);
      return reply.code(204).send();
    });
    scope.delete('/settings/wallpaper', { schema: schemas.deleteWallpaper }, async (req, reply) => {
      const { instance } = await requireOwner(deps, req, 'PUT');
      await deps.wallpapers.remove(instance.id);
      await announce(deps, instance);
      return reply.code(204).send();
    });
  });

  app.get('/settings/wallpaper', { schema: schemas.getWallpaper }, async (req, reply) => {
    const c = await settingsCaller(deps, req, onDoc('GET', WALLPAPER_ID), 'read the wallpaper');
    const stored = await deps.wallpapers.read(c.instance.id);
    if (!stored) throw new NotFound('no wallpaper is set: Home shows the theme\'s background');
    void reply.header('ETag', stored.etag).header('Cache-Control', 'private, no-cache');
    if (String(req.headers['if-none-match'] ?? '').split(',').map((s) => s.trim()).includes(stored.etag)) return reply.code(304).send();
    return reply.type(stored.type).send(stored.data);
  });
}
