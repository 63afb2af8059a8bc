/**
 * The archive layout of an export (cozy-stack model/move/export.go and importer.go; ../shared/reference/cozy-move.md §1),
 * shared by the writer (export) and the reader (import) so that both follow one definition:
 *   My Cozy/Data/instance.json                     the instance document, secrets removed
 *   My Cozy/Data/<doctype>/<doc id>.json           every document of every doctype (an id with `/` gives sub-folders)
 *   My Cozy/Data/io.cozy.files/<id>.json           a directory, or a file's document immediately followed by its content:
 *   My Cozy/Files/<full path of the file>
 *   My Cozy/Data/io.cozy.files.versions/<id>.json  an old version's document, immediately followed by its content at
 *   My Cozy/Files/<version id>                     (sic: cozy-stack writes versions there, not under My Cozy/Versions)
 * The doctype folder is URL-path-escaped on write (Go's url.PathEscape) and read back as is by cozy-stack; Hearth
 * unescapes it, which is the same for every valid doctype.
 */
export const DATA_DIR = 'My Cozy/Data';
export const FILES_DIR = 'My Cozy/Files';
export const INSTANCE_ENTRY = `${DATA_DIR}/instance.json`;
/**
 * Hearth's addition: the owner's avatar (the image as stored). cozy-stack's import skips an entry of My Cozy/Data that is
 * not in a doctype folder, so a Cozy ignores it.
 */
export const AVATAR_ENTRY = `${DATA_DIR}/avatar`;
/** Hearth's addition too: Home's wallpaper (the image as stored), beside the avatar. */
export const WALLPAPER_ENTRY = `${DATA_DIR}/wallpaper`;
export const FILES_DOCTYPE = 'io.cozy.files';
export const VERSIONS_DOCTYPE = 'io.cozy.files.versions';
/** The download names of cozy-stack (web/move/move.go). */
export const ZIP_NAME = 'My Cozy.zip';
export const partZipName = (part: number): string => `My Cozy - part${String(part).padStart(3, '0')}.zip`;

/** Go's url.PathEscape for the characters a doctype can hold (letters, digits, `.`, `-`, `_`: all kept). */
const pathEscape = (segment: string): string => encodeURIComponent(segment).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

export const docEntry = (doctype: string, id: string): string => `${DATA_DIR}/${pathEscape(doctype)}/${id}.json`;
/** `fullPath`: the file's absolute path in the VFS (`/Documents/a.pdf`). */
export const fileContentEntry = (fullPath: string): string => `${FILES_DIR}/${fullPath.replace(/^\/+/, '')}`;
export const versionContentEntry = (versionId: string): string => `${FILES_DIR}/${versionId}`;

export type DataEntry = { kind: 'instance' } | { kind: 'avatar' } | { kind: 'wallpaper' } | { kind: 'doc'; doctype: string; id: string };

/**
 * What a zip entry of `My Cozy/Data/` holds, or null for an entry the import does not read as a document (the files'
 * contents, folders, anything outside). Refuses (returns `{kind: 'invalid'}`) a name that tries to leave its folder
 * (`..`, `.`, empty segments, a backslash, NUL) so that no reader ever builds a path from it.
 */
export function parseDataEntry(name: string): DataEntry | { kind: 'invalid'; reason: string } | null {
  if (!name.startsWith(`${DATA_DIR}/`)) return null;
  if (name === INSTANCE_ENTRY) return { kind: 'instance' };
  if (name === AVATAR_ENTRY) return { kind: 'avatar' };
  if (name === WALLPAPER_ENTRY) return { kind: 'wallpaper' };
  if (name.endsWith('/')) return null;
  const rest = name.slice(DATA_DIR.length + 1);
  if (/[\\\0]/.test(rest)) return { kind: 'invalid', reason: 'a backslash or NUL in the entry name' };
  const slash = rest.indexOf('/');
  if (slash <= 0 || !rest.endsWith('.json')) return { kind: 'invalid', reason: 'not <doctype>/<id>.json' };
  let doctype: string;
  try {
    doctype = decodeURIComponent(rest.slice(0, slash));
  } catch {
    return { kind: 'invalid', reason: 'a doctype folder that is not URL-escaped' };
  }
  const id = rest.slice(slash + 1, -'.json'.length);
  if (!id || id.split('/').some((s) => s === '' || s === '.' || s === '..')) return { kind: 'invalid', reason: 'an empty, `.` or `..` segment in the id' };
  return { kind: 'doc', doctype, id };
}

/** The VFS path of a `My Cozy/Files/…` entry (`/a/b.txt`), or null when the name is outside it or tries to leave it. */
export function parseFileEntry(name: string): string | null {
  if (!name.startsWith(`${FILES_DIR}/`) || name.endsWith('/')) return null;
  const rest = name.slice(FILES_DIR.length + 1);
  if (/[\\\0]/.test(rest) || rest.split('/').some((s) => s === '' || s === '.' || s === '..')) return null;
  return `/${rest}`;
}
