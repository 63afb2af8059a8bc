/**
 * TRANSITIONAL, shrinking: the documentation of the routes that do not declare their schemas yet
 * (ops/openapi.test.ts lists them). A converted route declares its summary, tags, parameters and
 * responses where it is registered (common/schemas.ts), and its entry here goes; so does this file,
 * with the last one. `METHOD url` (the route pattern as registered; several methods of one route
 * joined by commas) → summary, tag, and the descriptions of its query parameters.
 */

export interface RouteDoc {
  summary: string;
  /** Default: the first segment of the path (data, files, jobs…). */
  tag?: string;
  description?: string;
  /** Query parameters: name → description (documentation only, never validated). */
  query?: Record<string, string>;
  /** Path parameters whose meaning differs from PARAMS. */
  params?: Record<string, string>;
}

const UPLOAD = { Type: 'file or directory', Name: 'The new file or directory name', Tags: 'Comma-separated tags', Executable: 'true for an executable file', MetadataID: 'An id from POST /files/upload/metadata', CreatedAt: 'RFC 3339 creation date', UpdatedAt: 'RFC 3339 modification date', Size: 'The content length, when not in Content-Length' };
const PAGE = { 'page[limit]': 'Page size', 'page[cursor]': 'The cursor of the previous page' };
const DAV_METHODS = 'GET,HEAD,PUT,DELETE,MKCOL,PROPFIND,PROPPATCH,COPY,MOVE,LOCK,UNLOCK';
const DAV = 'One route for every WebDAV method; MKCOL, PROPFIND, PROPPATCH, COPY, MOVE, LOCK and UNLOCK are under x-additional-operations (OpenAPI 3.0 has no such methods).';

export const CATALOG: Record<string, RouteDoc> = {
  // status (any host)
  'OPTIONS *': { summary: 'CORS preflight' },
  // settings
  'GET /settings/disk-usage': { summary: 'Bytes used (files, trash, old versions) and the quota', query: { include: 'trash: also the bytes in the trash' } },
  // data
  'GET /data/:doctype/:docid/relationships/references': { summary: 'The files that reference this document (JSON-API, paginated)', tag: 'files' },
  'POST /data/:doctype/:docid/relationships/references': { summary: 'Makes files reference this document', tag: 'files' },
  'DELETE /data/:doctype/:docid/relationships/references': { summary: 'Removes references from files to this document', tag: 'files' },
  // files
  'POST /files': { summary: 'Creates a file (raw body) or a directory at the root', query: UPLOAD },
  'POST /files/': { summary: 'Creates a file (raw body) or a directory at the root', query: UPLOAD },
  'POST /files/:dirId': { summary: 'Creates a file (raw body, streamed) or a directory in the directory {id}', query: UPLOAD, description: 'Content-Length (or Size) is checked against the quota before the body is read (413); Content-MD5 against the content (412).' },
  'PUT /files/:id': { summary: 'Overwrites a file\'s content (raw body, streamed; If-Match for the revision)', query: { Tags: 'Comma-separated tags', Executable: 'true for an executable file', MetadataID: 'An id from POST /files/upload/metadata', UpdatedAt: 'RFC 3339 modification date', Size: 'The content length' } },
  'GET /files/metadata': { summary: 'A file or directory by path (a directory with a page of its contents)', query: { Path: 'The absolute path, e.g. /Documents/a.pdf' } },
  'PATCH /files/metadata': { summary: 'Renames, moves, tags or trashes a file or directory given by path', query: { Path: 'The absolute path' } },
  'HEAD /files/:id': { summary: 'Whether a file or directory exists and may be read (no body)' },
  'GET /files/:id': { summary: 'A file or directory (a directory with one page of its contents)', query: PAGE },
  'GET /files/:id/relationships/contents': { summary: 'The contents of a directory, by pages', query: PAGE },
  'PATCH /files/:id': { summary: 'Renames, moves, tags or trashes a file or directory (JSON-API body; If-Match)' },
  'DELETE /files/:id': { summary: 'Moves a file or directory to the trash' },
  'PATCH /files': { summary: 'Changes many files at once (JSON-API array of PATCH /files/{id} bodies)' },
  'PATCH /files/': { summary: 'Changes many files at once (JSON-API array of PATCH /files/{id} bodies)' },
  'GET /files/trash': { summary: 'The trash\'s contents, by pages', query: PAGE },
  'POST /files/trash/:id': { summary: 'Restores a file or directory from the trash (renamed on conflict)' },
  'DELETE /files/trash/:id': { summary: 'Destroys a trashed file or directory for good' },
  'DELETE /files/trash': { summary: 'Empties the trash' },
  'GET /files/download/:id': { summary: 'Downloads a file\'s content (ranges, conditional requests, ETag)', query: { Dl: '1 for Content-Disposition: attachment' } },
  'GET /files/download': { summary: 'Downloads a file\'s content by path', query: { Path: 'The absolute path', Dl: '1 for Content-Disposition: attachment' } },
  'GET /files/download/:id/:version': { summary: 'Downloads an old version of a file', query: { Dl: '1 for Content-Disposition: attachment' } },
  'POST /files/downloads': { summary: 'Makes a download link that works without a token for 10 minutes', query: { Id: 'The file id', Path: 'Or its path', VersionId: 'Or an old version (<file id>/<version id>)', Filename: 'The name in the link (default the file\'s)' } },
  'GET /files/downloads/:secret/:name': { summary: 'Downloads through a link made by POST /files/downloads (no token)', query: { Dl: '1 for Content-Disposition: attachment' } },
  'POST /files/archive': { summary: 'Makes a link to a zip of files and directories (valid 10 minutes)' },
  'GET /files/archive/:secret/:name': { summary: 'Downloads the zip of a link made by POST /files/archive (no token)' },
  'POST /files/_find': { summary: 'Mango query on io.cozy.files (JSON-API, paginated by bookmark)' },
  'POST /files/_all_docs': { summary: 'Files and directories by ids (JSON-API)' },
  'GET /files/_changes': { summary: 'The changes feed of io.cozy.files', query: { since: 'Sequence to start after', limit: 'At most this many changes', include_docs: 'true for the documents', fields: 'Comma-separated fields to keep', include_file_path: 'true to add the files\' paths', skip_deleted: 'true to leave deletions out', skip_trashed: 'true to leave trashed files out' } },
  'GET /files/fsck': { summary: 'Checks the file system: one JSON object per line, one line per problem' },
  'POST /files/:id/copy': { summary: 'Copies a file', query: { Name: 'The copy\'s name', DirID: 'Its directory' } },
  'POST /files/revert/:id/:version': { summary: 'Makes an old version the current content again' },
  'POST /files/:id/versions': { summary: 'Makes a new version with the same content and new metadata' },
  'PATCH /files/:id/:version': { summary: 'Changes the tags of an old version' },
  'DELETE /files/:id/:version': { summary: 'Deletes an old version and its content' },
  'DELETE /files/versions': { summary: 'Deletes every old version of every file of the instance' },
  'GET /files/:id/size': { summary: 'The recursive size of a directory (io.cozy.files.sizes)' },
  'POST /files/upload/metadata': { summary: 'Keeps a metadata object 10 minutes for an upload\'s MetadataID' },
  'POST /files/:id/relationships/referenced_by': { summary: 'Adds documents that reference this file' },
  'DELETE /files/:id/relationships/referenced_by': { summary: 'Removes documents that reference this file' },
  'POST /files/:id/relationships/not_synchronized_on': { summary: 'OAuth clients that must not synchronize this directory: adds some' },
  'DELETE /files/:id/relationships/not_synchronized_on': { summary: 'OAuth clients that must not synchronize this directory: removes some' },
  'GET /files/:id/thumbnails/:secret/:format': { summary: 'A thumbnail of an image (JPEG; the secret from the file\'s links is the credential)' },
  // WebDAV
  'OPTIONS /dav/files': { summary: 'What the WebDAV server supports (DAV: 1, 2; no credentials needed)' },
  'OPTIONS /dav/files/*': { summary: 'What the WebDAV server supports (DAV: 1, 2; no credentials needed)' },
  [`${DAV_METHODS} /dav/files`]: { summary: 'WebDAV on the root directory (Basic auth with an app password, or Bearer)', description: DAV },
  [`${DAV_METHODS} /dav/files/*`]: { summary: 'WebDAV on a file or directory (Basic auth with an app password, or Bearer)', description: DAV },
  // jobs
  // realtime
};

export function describeRoute(methods: string[], url: string): RouteDoc | null {
  const own = CATALOG[`${methods.join(',')} ${url}`];
  if (own) return own;
  if (methods.length === 1 && methods[0] === 'HEAD') {
    const get = CATALOG[`GET ${url}`];
    if (get) return { ...get, summary: `${get.summary} (headers only)` };
  }
  return null;
}
