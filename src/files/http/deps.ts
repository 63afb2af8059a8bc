/** What the /files routes need from the composition root. */
import type { Instance } from '../../instances/types.js';
import type { PermissionResolver } from '../../permissions/resolve.js';
import type { Vfs } from '../vfs.js';

export interface FilesDeps {
  perms: PermissionResolver;
  vfs: Vfs;
  /** The instance's session secret, from which the key of download and archive links is derived. */
  linkSecret(instance: Instance): Promise<Uint8Array>;
  /**
   * The origins that may show a download link's content in a frame (the instance's app hosts, so that an app previews
   * a PDF in the browser's viewer), for the instance host and scheme of the request; without it, no frame may.
   */
  framedBy?(instanceHost: string, scheme: string): string;
  /** Told when an upload session of `instance` opens, with its expiry (ms): the housekeeping removes it then. */
  uploadExpires?(instance: Instance, at: number): void;
}
