/**
 * The schemas of /files (and /settings/disk-usage, the references under /data): the OpenAPI document
 * and the path parameters come from them. The query parameters and headers are documented here but
 * typeless: cozy-stack's /files answers a bad one with 422 `invalid_parameter` (or `query_parse_error`
 * on _changes) and its own message, which params.ts gives, after an empty value counts as none.
 * The answers are JSON-API documents of open resources (io.cozy.files attributes are the stored
 * document's), documented and serialized with JSON.stringify; raw bodies and downloads are binary.
 */
import { content, JSONAPI, noContent, params, rawBody, type JsonSchema, type RouteSchema } from '../../common/schemas.js';

const tags = ['files'];
/** A documented, unvalidated parameter (params.ts reads and checks it). */
const doc = (description: string, example?: unknown): JsonSchema => ({ description, ...(example === undefined ? {} : { example }) });
const docs = (spec: Record<string, string>): JsonSchema => ({ type: 'object', properties: Object.fromEntries(Object.entries(spec).map(([k, v]) => [k, doc(v)])) });

const FILE = 'An io.cozy.files resource: type, id, attributes (type, name, dir_id, path, size, md5sum, mime, class, tags, created_at, updated_at, trashed, metadata, cozyMetadata…), meta.rev, links, relationships';
const answer = (description: string, data = FILE): JsonSchema => ({
  description, content: { [JSONAPI]: { schema: { type: 'object', properties: { data: doc(data), included: doc('Contents of a directory'), links: doc('Links: self, next, related'), meta: doc('count, rev…') }, additionalProperties: true, 'x-serialize': false } } },
});
const jsonApiBody = (description: string, example: unknown): JsonSchema => ({ description, example, content: { [JSONAPI]: { schema: { example } }, 'application/json': { schema: { example } } } });
const file = (status: number, description: string) => ({ [status]: answer(description) });

const id = params(['id']);
const PAGE = { 'page[limit]': 'Page size', 'page[cursor]': 'The cursor of the previous page', 'page[skip]': 'Items to skip' };
const UPLOAD = {
  Type: 'file or directory', Name: 'The new file or directory name', Tags: 'Comma-separated tags', Executable: 'true for an executable file',
  Encrypted: 'true for an encrypted file', MetadataID: 'An id from POST /files/upload/metadata', CreatedAt: 'RFC 3339 creation date',
  UpdatedAt: 'RFC 3339 modification date', Size: 'The content length, when not in Content-Length',
  SourceAccount: 'The io.cozy.accounts id of the konnector account that saved it', SourceAccountIdentifier: 'The account\'s identifier (login)',
};
const UPLOAD_HEADERS = docs({ 'content-md5': 'Base64 MD5 of the content: 412 on a mismatch', 'content-length': 'The size, checked against the quota before the body is read (413)', 'if-match': 'The revision to overwrite', date: 'RFC 1123 date: the modification date when UpdatedAt is not given' });
const BINARY = ['application/octet-stream', 'image/jpeg', 'application/pdf'];
const DL = docs({ Dl: '1 for Content-Disposition: attachment' });
const RANGE_HEADERS = docs({ range: 'bytes=… (one range: 206; several: multipart/byteranges)', 'if-none-match': 'ETag (the MD5)', 'if-modified-since': 'HTTP date', 'if-range': 'ETag or date' });
const downloaded = (description: string): Record<string, JsonSchema> => ({ 200: content(description, ['application/octet-stream'], { type: 'string', format: 'binary' }), 206: content('The ranges asked', ['application/octet-stream', 'multipart/byteranges'], { type: 'string', format: 'binary' }), 304: noContent('Not modified') });
const PATCH_EXAMPLE = { data: { type: 'io.cozy.files', id: '…', attributes: { name: 'new name.pdf', dir_id: '…', tags: ['bills'] } } };

export const upload = (summary: string, withDir: boolean): RouteSchema => ({
  summary, tags, ...(withDir ? { params: params(['dirId']) } : {}), querystring: docs(UPLOAD), headers: UPLOAD_HEADERS,
  description: 'Content-Length (or Size) is checked against the quota before the body is read (413); Content-MD5 against the content (412).',
  body: rawBody('The file\'s content (raw, streamed; any content type); nothing for a directory', BINARY),
  response: file(201, 'The new file or directory'),
});
export const overwrite: RouteSchema = {
  summary: 'Overwrites a file\'s content (raw body, streamed; If-Match for the revision)', tags, params: id,
  querystring: docs({ Tags: UPLOAD.Tags, Executable: UPLOAD.Executable, Encrypted: UPLOAD.Encrypted, MetadataID: UPLOAD.MetadataID, CreatedAt: UPLOAD.CreatedAt, UpdatedAt: UPLOAD.UpdatedAt, Size: UPLOAD.Size, SourceAccount: UPLOAD.SourceAccount, SourceAccountIdentifier: UPLOAD.SourceAccountIdentifier }),
  headers: UPLOAD_HEADERS, body: rawBody('The new content (raw, streamed)', BINARY), response: file(200, 'The file with its new content'),
};

export const metadata: RouteSchema = { summary: 'A file or directory by path (a directory with a page of its contents)', tags, querystring: docs({ Path: 'The absolute path, e.g. /Documents/a.pdf', ...PAGE }), response: file(200, 'The file or directory') };
export const patchByPath: RouteSchema = { summary: 'Renames, moves, tags or trashes a file or directory given by path', tags, querystring: docs({ Path: 'The absolute path' }), body: jsonApiBody('The changes', PATCH_EXAMPLE), response: file(200, 'As changed') };
export const head: RouteSchema = { summary: 'Whether a file or directory exists and may be read (no body)', tags, params: id, response: { 200: noContent('It exists') } };
export const get: RouteSchema = { summary: 'A file or directory (a directory with one page of its contents)', tags, params: id, querystring: docs(PAGE), response: file(200, 'The file or directory') };
export const contents: RouteSchema = { summary: 'The contents of a directory, by pages', tags, params: id, querystring: docs(PAGE), response: file(200, 'A page of contents') };
export const patch: RouteSchema = {
  summary: 'Renames, moves, tags or trashes a file or directory (JSON-API body; If-Match)', tags, params: id,
  headers: docs({ 'if-match': 'The revision' }), body: jsonApiBody('The changes: name, dir_id, tags, updated_at, executable, move_to_trash, permanent_delete…', PATCH_EXAMPLE),
  response: file(200, 'As changed'),
};
export const trash: RouteSchema = { summary: 'Moves a file or directory to the trash', tags, params: id, headers: docs({ 'if-match': 'The revision' }), response: file(200, 'As trashed') };
export const batch: RouteSchema = {
  summary: 'Changes many files at once (JSON-API array of PATCH /files/{id} bodies)', tags,
  description: 'Each item\'s meta.rev is checked as an If-Match; every item is checked before any is changed.',
  body: jsonApiBody('{data: [{type, id, attributes, meta: {rev}}]}', { data: [{ type: 'io.cozy.files', id: '…', attributes: { move_to_trash: true }, meta: { rev: '…' } }] }),
  response: { 200: answer('The results, item by item (errors as JSON-API errors)') },
};

export const trashList: RouteSchema = { summary: 'The trash\'s contents, by pages', tags, querystring: docs(PAGE), response: file(200, 'A page of the trash') };
export const restore: RouteSchema = { summary: 'Restores a file or directory from the trash (renamed on conflict)', tags, params: id, response: file(200, 'As restored') };
export const destroy: RouteSchema = { summary: 'Destroys a trashed file or directory for good', tags, params: id, response: { 204: noContent('Destroyed') } };
export const emptyTrash: RouteSchema = { summary: 'Empties the trash', tags, response: { 204: noContent('Emptied') } };

export const downloadById: RouteSchema = { summary: 'Downloads a file\'s content (ranges, conditional requests, ETag)', tags, params: id, querystring: DL, headers: RANGE_HEADERS, response: downloaded('The content') };
export const downloadByPath: RouteSchema = { summary: 'Downloads a file\'s content by path', tags, querystring: docs({ Path: 'The absolute path', Dl: '1 for Content-Disposition: attachment' }), headers: RANGE_HEADERS, response: downloaded('The content') };
export const downloadVersion: RouteSchema = { summary: 'Downloads an old version of a file', tags, params: params(['id', 'version']), querystring: DL, headers: RANGE_HEADERS, response: downloaded('The old content') };
export const diskUsage: RouteSchema = {
  summary: 'Bytes used (files, trash, old versions) and the quota', tags: ['settings'], querystring: docs({ include: 'trash: also the bytes in the trash; categories: the other files\' bytes by category (documents, images, videos, audio, others); both: trash,categories' }),
  response: { 200: answer('io.cozy.settings.disk-usage: used, quota, files, versions, trash, categories', 'The disk usage resource') },
};

export const find: RouteSchema = { summary: 'Mango query on io.cozy.files (JSON-API, paginated by bookmark)', tags, body: jsonApiBody('A Mango query', { selector: { class: 'pdf' }, limit: 10 }), response: file(200, 'The files') };
export const allDocs: RouteSchema = { summary: 'Files and directories by ids (JSON-API)', tags, querystring: docs({ include_docs: 'false for ids only', limit: 'At most this many', skip: 'To skip' }), body: jsonApiBody('{keys: [ids]}', { keys: ['…'] }), response: file(200, 'The files') };
export const changes: RouteSchema = {
  summary: 'The changes feed of io.cozy.files', tags,
  querystring: docs({ since: 'Sequence to start after', limit: 'At most this many changes', include_docs: 'true for the documents', fields: 'Comma-separated fields to keep', include_file_path: 'true to add the files\' paths', skip_deleted: 'true to leave deletions out', skip_trashed: 'true to leave trashed files out', feed: 'normal only' }),
  response: { 200: { description: 'The changes, CouchDB-style', type: 'object', additionalProperties: true, 'x-serialize': false } },
};
export const fsck: RouteSchema = { summary: 'Checks the file system: one JSON object per line, one line per problem', tags, response: { 200: content('NDJSON lines', ['application/x-ndjson']) } };

export const makeLink: RouteSchema = {
  summary: 'Makes a download link that works without a token for 10 minutes', tags,
  querystring: docs({ Id: 'The file id', Path: 'Or its path', VersionId: 'Or an old version (<file id>/<version id>)', Filename: 'The name in the link (default the file\'s)' }),
  response: file(200, 'The file, with links.related: the link'),
};
export const byLink: RouteSchema = { summary: 'Downloads through a link made by POST /files/downloads (no token)', tags, params: params(['secret', 'name']), querystring: DL, headers: RANGE_HEADERS, response: downloaded('The content') };
export const makeArchive: RouteSchema = {
  summary: 'Makes a link to a zip of files and directories (valid 10 minutes)', tags,
  body: jsonApiBody('{data: {attributes: {name, ids: [], files: [paths]}}}', { data: { attributes: { name: 'photos', ids: ['…'] } } }),
  response: { 200: answer('io.cozy.files.archives: links.related, the link') },
};
export const archive: RouteSchema = { summary: 'Downloads the zip of a link made by POST /files/archive (no token)', tags, params: params(['secret', 'name']), response: { 200: content('The zip, streamed', ['application/zip'], { type: 'string', format: 'binary' }) } };

export const copy: RouteSchema = {
  summary: 'Copies a file, or a directory with its subtree', tags, params: id, querystring: docs({ Name: 'The copy\'s name', DirID: 'Its directory' }),
  response: { ...file(201, 'The copy'), 200: content('A directory copied with Accept: application/x-ndjson: progress lines, then the copy or the error', ['application/x-ndjson']) },
};
export const revert: RouteSchema = { summary: 'Makes an old version the current content again', tags, params: params(['id', 'version']), response: file(200, 'The file') };
const REFS = { data: [{ type: 'io.cozy.photos.albums', id: '…' }] };
export const referencedBy = (summary: string): RouteSchema => ({ summary, tags, params: id, body: jsonApiBody('{data: [{type, id}]} (or one)', REFS), response: { 200: answer('The file\'s references (meta.rev, meta.count)'), 204: noContent('Done') } });
export const references: RouteSchema = {
  summary: 'The files that reference this document (JSON-API, paginated)', tags, params: params(['doctype', 'docid']),
  querystring: docs({ ...PAGE, include: 'files for the files themselves', sort: 'datetime (or -datetime)' }), response: file(200, 'The files (ids), and the documents with include=files'),
};
export const changeReferences = (summary: string): RouteSchema => ({ summary, tags, params: params(['doctype', 'docid']), body: jsonApiBody('{data: [{type: "io.cozy.files", id}]}', { data: [{ type: 'io.cozy.files', id: '…' }] }), response: { 204: noContent('Done') } });

export const size: RouteSchema = { summary: 'The recursive size of a directory (io.cozy.files.sizes)', tags, params: id, response: { 200: answer('The size', 'io.cozy.files.sizes: {size}') } };
export const thumbnail: RouteSchema = { summary: 'A thumbnail of an image (JPEG; the secret from the file\'s links is the credential)', tags, params: params(['id', 'secret', 'format']), response: { 200: content('The JPEG', ['image/jpeg'], { type: 'string', format: 'binary' }), 304: noContent('Not modified') } };
export const uploadMetadata: RouteSchema = {
  summary: 'Keeps a metadata object 10 minutes for an upload\'s MetadataID', tags,
  body: jsonApiBody('{data: {type: "io.cozy.files.metadata", attributes: {…}}}', { data: { type: 'io.cozy.files.metadata', attributes: { category: 'report' } } }),
  response: { 201: answer('The metadata, with its id', 'io.cozy.files.metadata') },
};
export const newVersion: RouteSchema = { summary: 'Makes a new version with the same content and new metadata', tags, params: id, body: jsonApiBody('{data: {attributes: metadata}}', { data: { attributes: {} } }), response: file(200, 'The file') };
export const patchVersion: RouteSchema = { summary: 'Changes the tags of an old version', tags, params: params(['id', 'version']), body: jsonApiBody('{data: {attributes: {tags}}}', { data: { attributes: { tags: ['kept'] } } }), response: { 200: answer('The version', 'io.cozy.files.versions') } };
export const deleteVersions: RouteSchema = { summary: 'Deletes every old version of every file of the instance', tags, response: { 204: noContent('Deleted') } };
export const deleteVersion: RouteSchema = { summary: 'Deletes an old version and its content', tags, params: params(['id', 'version']), response: { 204: noContent('Deleted') } };
export const notSynchronized = (summary: string): RouteSchema => ({ summary, tags, params: id, body: jsonApiBody('{data: [{type: "io.cozy.oauth.clients", id}]}', { data: [{ type: 'io.cozy.oauth.clients', id: '…' }] }), response: { 204: noContent('Done') } });
export const notSynchronizing: RouteSchema = {
  summary: 'The directories not synchronized on a device (an OAuth client): JSON-API, paginated, meta.count', tags, params: params(['doctype', 'docid']),
  querystring: docs({ ...PAGE, include: 'files for the directories themselves', sort: 'id (the only order)' }), response: file(200, 'The directories (ids), and the documents with include=files'),
};
export const changeNotSynchronizing = (summary: string): RouteSchema => ({ summary, tags, params: params(['doctype', 'docid']), body: jsonApiBody('{data: [{type: "io.cozy.files", id: <directory id>}]} (or one)', { data: [{ type: 'io.cozy.files', id: '…' }] }), response: { 204: noContent('Done') } });

// resumable uploads (upload-sessions.ts), a Hearth extension
const SESSION = 'io.cozy.files.uploads: id, attributes (dir_id, name, size, offset, expires_at, history [{offset, bytes, at}], file_id once created)';
const session = (status: number, description: string) => ({ [status]: answer(description, SESSION) });
const sid = params(['id']);
const OFFSET_HEADERS = { 'upload-offset': 'Where the bytes of this request start: the offset the server holds (else 409)', 'content-length': 'The chunk\'s size: 413 past the file\'s size' };
export const createUploadSession: RouteSchema = {
  summary: 'Opens a resumable upload of a new file (Hearth extension); chunks go with PATCH /files/uploads/{id}', tags,
  querystring: docs({ DirID: 'The directory (root by default)', Name: UPLOAD.Name, Size: 'The file\'s size in bytes (required)', Tags: UPLOAD.Tags, Executable: UPLOAD.Executable, CreatedAt: UPLOAD.CreatedAt, UpdatedAt: UPLOAD.UpdatedAt, SourceAccount: UPLOAD.SourceAccount, SourceAccountIdentifier: UPLOAD.SourceAccountIdentifier }),
  headers: docs({ 'content-md5': 'Base64 MD5 of the whole file: 412 at the end on a mismatch', 'content-type': 'The file\'s type' }),
  description: 'The same rights as POST /files/{dirId} (POST on the directory); 409 if the name is taken, 413 if the size does not fit in the quota (open uploads included), 429 if 20 uploads are open already.',
  response: session(201, 'The session: Location and Upload-Offset headers'),
};
export const uploadSessions: RouteSchema = { summary: 'The caller\'s open resumable uploads', tags, response: { 200: answer('The sessions', `[${SESSION}]`) } };
export const uploadSession: RouteSchema = { summary: 'A resumable upload', tags, params: sid, response: session(200, 'The session') };
export const uploadSessionOffset: RouteSchema = { summary: 'Where a resumable upload stands: Upload-Offset and Upload-Length headers', tags, params: sid, response: { 200: noContent('Headers only') } };
export const appendUploadSession: RouteSchema = {
  summary: 'Appends a chunk to a resumable upload; the one that reaches the size creates the file', tags, params: sid,
  querystring: docs({ Name: 'Another name for the file, when the last chunk (or an empty one at the end) met a name conflict' }), headers: docs(OFFSET_HEADERS),
  description: '409 on a wrong Upload-Offset (the answer\'s Upload-Offset says the right one) or a name taken at the end (the session stays: send an empty PATCH at the end with another Name); 413 past the size or the quota; 412 if the MD5 does not match (the session ends).',
  body: rawBody('The chunk (raw; application/offset+octet-stream as tus, or any type)', ['application/offset+octet-stream', 'application/octet-stream']),
  response: { 204: noContent('Appended: Upload-Offset gives the new offset'), ...file(201, 'The file, created by the last chunk'), ...file(200, 'The file, already created by this session') },
};
export const cancelUploadSession: RouteSchema = { summary: 'Cancels a resumable upload: its bytes go', tags, params: sid, response: { 204: noContent('Cancelled') } };
