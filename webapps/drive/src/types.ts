/**
 * A file or folder as cozy-client returns it from `io.cozy.files` queries (the JSON-API resource flattened: `_id`,
 * `_type`, then the attributes). The Drive shell (main.tsx, the listing, the upload) and the views (views/: preview,
 * versions, sharing by link, photos, the PICK intent) share this type and the props below.
 */
export interface DriveFile {
  _id: string;
  id?: string;
  _rev?: string;
  _type: 'io.cozy.files';
  type: 'file' | 'directory';
  name: string;
  dir_id?: string;
  path?: string;
  size?: string | number;
  mime?: string;
  class?: string;
  md5sum?: string;
  trashed?: boolean;
  created_at?: string;
  updated_at?: string;
  tags?: string[];
  metadata?: { datetime?: string; width?: number; height?: number; [k: string]: unknown };
  links?: { tiny?: string; small?: string; medium?: string; large?: string; preview?: string; icon?: string };
  relationships?: { old_versions?: { data?: { id: string; type: string }[] } };
  cozyMetadata?: Record<string, unknown>;
}

/** Preview: opened on `file` from the listing; ←/→ (and the buttons) move through `files` (the previewable files of the folder, in listing order). */
export interface PreviewProps {
  file: DriveFile;
  files: DriveFile[];
  onNavigate(file: DriveFile): void;
  onClose(): void;
}

/** The old versions of `file`: list, download, revert; `onChanged` after a revert (the listing refreshes). */
export interface VersionsProps {
  file: DriveFile;
  onClose(): void;
  onChanged(): void;
}

/** Sharing `file` (a file or a folder) by a read-only link, with optional password and expiry; lists and revokes its links. */
export interface ShareProps {
  file: DriveFile;
  onClose(): void;
}
