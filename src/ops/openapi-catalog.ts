/**
 * What each public route does, for the OpenAPI document (ops/openapi.ts): `METHOD url` (the route
 * pattern as registered; several methods of one route joined by commas) → summary, tag, and the
 * descriptions of its query parameters. An explicit HEAD route without its own entry is described
 * by its GET's. ops/openapi.test.ts fails when a registered route has no entry here.
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

export const TAGS = [
  { name: 'status', description: 'Health, version and this API description (any host, no token)' },
  { name: 'auth', description: 'Login, logout, OAuth 2 clients and tokens, passphrase onboarding and reset (no CORS)' },
  { name: 'settings', description: 'The owner\'s settings: passphrase, sessions, two-factor, app passwords, OAuth clients, disk usage' },
  { name: 'data', description: 'Documents by doctype, CouchDB-compatible (PouchDB replication, Mango)' },
  { name: 'files', description: 'The virtual file system (JSON-API): directories, uploads, downloads, trash, versions, references' },
  { name: 'dav', description: 'WebDAV (RFC 4918 class 1 and 2) over the same files' },
  { name: 'permissions', description: 'Permission sets, share links and their codes' },
  { name: 'jobs', description: 'Jobs, triggers and webhooks' },
  { name: 'notifications', description: 'Notifications to the owner and their preferences' },
  { name: 'public', description: 'Public data of an instance (no token)' },
  { name: 'realtime', description: 'Live events: the io.cozy.websocket WebSocket, Server-Sent Events, NOTIFIED events' },
];

/** When routes differ only by their parameters' names, the document uses these names (one path per shape). */
export const CANONICAL_PATHS = ['/files/{id}'];

/** Descriptions of the usual path parameters. */
export const PARAMS: Record<string, string> = {
  doctype: 'A doctype, e.g. io.cozy.contacts',
  docid: 'The document id',
  att: 'The attachment name',
  ddoc: 'The design document name (without _design/)',
  view: 'The view name',
  name: 'A name (the index name, or the file name shown in the link)',
  id: 'The id of the resource',
  dirId: 'The id of the parent directory',
  version: 'The id of an old version of the file',
  secret: 'The secret of the link (it is the credential)',
  format: 'The thumbnail format: tiny, small, medium or large',
  worker: 'The worker name, e.g. sendmail',
  path: 'The rest of the path',
};

const UPLOAD = { Type: 'file or directory', Name: 'The new file or directory name', Tags: 'Comma-separated tags', Executable: 'true for an executable file', MetadataID: 'An id from POST /files/upload/metadata', CreatedAt: 'RFC 3339 creation date', UpdatedAt: 'RFC 3339 modification date', Size: 'The content length, when not in Content-Length' };
const PAGE = { 'page[limit]': 'Page size', 'page[cursor]': 'The cursor of the previous page' };
const DAV_METHODS = 'GET,HEAD,PUT,DELETE,MKCOL,PROPFIND,PROPPATCH,COPY,MOVE,LOCK,UNLOCK';
const DAV = 'One route for every WebDAV method; MKCOL, PROPFIND, PROPPATCH, COPY, MOVE, LOCK and UNLOCK are under x-additional-operations (OpenAPI 3.0 has no such methods).';

export const CATALOG: Record<string, RouteDoc> = {
  // status (any host)
  'GET /status': { summary: 'Checks every dependency (registry, file system, jobs, sessions, docs, SMTP): 200 OK or 503 KO naming the failing ones, with latencies' },
  'GET /version': { summary: 'The server version, build mode and Node version' },
  'GET /connection_check': { summary: 'Answers 204: lets a client test its connectivity' },
  'GET /openapi.json': { summary: 'This OpenAPI 3 document, generated from the registered routes' },
  'OPTIONS *': { summary: 'CORS preflight' },
  // home, public
  'GET /': { summary: 'Redirects to the home app, the login page or the onboarding', tag: 'auth' },
  'GET /favicon.ico': { summary: 'The pages\' icon (an ICO of 16, 32 and 48 pixel PNGs)', tag: 'public' },
  'GET /public/avatar': { summary: 'The owner\'s avatar, or their initials (no token)', tag: 'public', query: { fallback: 'initials (default), anonymous or 404 when there is no avatar', as: 'unconfirmed for a grey one', fx: 'translucent', format: 'svg (default) or png' } },
  'GET /public/prelogin': { summary: 'What a native client needs before login: the KDF and its iterations, the owner\'s public name', tag: 'public' },
  // auth
  'OPTIONS /auth/*': { summary: 'Preflight of /auth, answered without CORS headers (cozy-stack disables CORS on /auth)' },
  'GET /auth/login': { summary: 'The login page (HTML)', query: { redirect: 'Where to go after login (one of the instance\'s app addresses)' } },
  'POST /auth/login': { summary: 'Logs the owner in (form: passphrase, redirect): a session cookie and a redirect, or a redirect (303) to the two-factor page' },
  'DELETE /auth/login': { summary: 'Logs the current session out (the session cookie from the instance\'s own pages, or with an app token; another Origin is refused)' },
  'DELETE /auth/login/others': { summary: 'Logs out every other session of the owner (same Origin check as DELETE /auth/login)' },
  'GET /auth/twofactor': { summary: 'The two-factor passcode page (HTML); the form posts of the login land here (Post/Redirect/Get)', query: { two_factor_token: 'The token the login step gave', redirect: 'Where to go after login', error: 'wrong, missing or mail_rate: the message to show', left: 'With error=wrong: the attempts left before the lock-out' } },
  'POST /auth/twofactor': { summary: 'Second login step: the two-factor token and a passcode (TOTP, mailed or recovery code) give the session; a wrong code redirects (303) to the page' },
  'GET /auth/passphrase': { summary: 'Onboarding: the page where the owner sets the first passphrase (HTML)', query: { registerToken: 'The onboarding token of the registration link' } },
  'GET /auth/passphrase_reset': { summary: 'The page to ask for a passphrase reset link by mail (HTML)' },
  'POST /auth/passphrase_reset': { summary: 'Mails a passphrase reset link to the owner (the answer does not say whether a mail went out)' },
  'GET /auth/passphrase_renew': { summary: 'The page to choose a new passphrase with a mailed reset token (HTML)', query: { token: 'The reset token of the mailed link' } },
  'POST /auth/passphrase_renew': { summary: 'Sets a new passphrase with a mailed reset token' },
  'GET /auth/security': { summary: 'The owner\'s security page: sessions, connected clients, two-factor (HTML, session cookie)' },
  'POST /auth/share-by-link/password': { summary: 'Unlocks a password-protected share link: sets the cookie that goes with its code' },
  'POST /auth/register': { summary: 'OAuth 2 dynamic client registration (RFC 7591): client_id, client_secret and registration_access_token' },
  'GET /auth/register/:id': { summary: 'Reads a registered OAuth client (RFC 7592; Bearer registration_access_token)', params: { id: 'The client_id' } },
  'PUT /auth/register/:id': { summary: 'Updates a registered OAuth client, optionally rotating its secret (RFC 7592)', params: { id: 'The client_id' } },
  'DELETE /auth/register/:id': { summary: 'Deletes a registered OAuth client and its tokens (RFC 7592)', params: { id: 'The client_id' } },
  'GET /auth/authorize': { summary: 'The OAuth consent page (HTML; PKCE S256 supported, state required)', query: { client_id: 'The client', redirect_uri: 'One of its redirect URIs', state: 'Opaque value sent back', scope: 'The rights asked', response_type: 'code', code_challenge: 'PKCE challenge', code_challenge_method: 'S256' } },
  'POST /auth/authorize': { summary: 'The owner accepts the OAuth consent: redirects with an authorization code' },
  'POST /auth/access_token': { summary: 'OAuth token endpoint: authorization_code or refresh_token grant (form-encoded)' },
  // settings
  'GET /settings/passphrase': { summary: 'The KDF parameters a client uses to derive the passphrase it sends' },
  'POST /settings/passphrase': { summary: 'Onboarding: sets the first passphrase with the registration token' },
  'PUT /settings/passphrase': { summary: 'Changes the passphrase (the current one is required); other sessions are logged out' },
  'POST /settings/passphrase/check': { summary: 'Checks the owner\'s passphrase (204 or 403), e.g. before a sensitive action' },
  'GET /settings/sessions': { summary: 'The owner\'s open sessions (JSON-API); attributes.kind is web (a browser) or app-token (the session of a command-line app token)' },
  'GET /settings/sessions/current': { summary: 'The session of this request (JSON-API)' },
  'GET /settings/clients': { summary: 'The OAuth clients connected to the instance (JSON-API)' },
  'DELETE /settings/clients/:id': { summary: 'Revokes an OAuth client and its tokens' },
  'POST /settings/twofactor/totp': { summary: 'Starts authenticator-app enrolment: a TOTP secret and its QR code' },
  'POST /settings/twofactor/totp/confirm': { summary: 'Confirms the enrolment with a first passcode: two-factor is on, recovery codes are given once' },
  'DELETE /settings/twofactor': { summary: 'Turns two-factor authentication off (the passphrase is required)' },
  'PUT /settings/instance/auth_mode': { summary: 'Sets the auth mode (basic or two_factor_mail; the mail mode is confirmed with a mailed code)' },
  'POST /settings/app-passwords': { summary: 'Creates an app password (WebDAV, sync clients): shown once in the answer' },
  'GET /settings/app-passwords': { summary: 'Lists the app passwords (never the passwords themselves)' },
  'DELETE /settings/app-passwords/:id': { summary: 'Revokes an app password' },
  'GET /settings/instance': { summary: 'The instance settings document io.cozy.settings.instance (locale, email, public name, tz…)' },
  'PUT /settings/instance': { summary: 'Changes the instance settings (JSON-API with data.meta.rev; 409 on a stale revision)' },
  'GET /settings/capabilities': { summary: 'What this server can do (file versioning, flat subdomains, login methods)' },
  'GET /settings/context': { summary: 'The context settings (default and onboarded redirections, help link)' },
  'GET /settings/flags': { summary: 'The feature flags', query: { include: 'Any value to add the flags of each source (included)' } },
  'GET /settings/theme.css': { summary: 'The instance theme as CSS variables (no token: apps and public pages link it)' },
  'GET /settings/theme': { summary: 'The instance theme: the effective values and the defaults' },
  'PUT /settings/theme': { summary: 'Sets the instance theme (colors, dark colors, font family)' },
  'DELETE /settings/theme': { summary: 'Goes back to the default theme' },
  'PUT /settings/avatar': { summary: 'Sets the owner\'s avatar (the raw image as the body)' },
  'DELETE /settings/avatar': { summary: 'Removes the owner\'s avatar' },
  'GET /settings/disk-usage': { summary: 'Bytes used (files, trash, old versions) and the quota', query: { include: 'trash: also the bytes in the trash' } },
  // data
  'GET /data/': { summary: 'CouchDB server information (PouchDB asks for it)' },
  'GET /data/_all_doctypes': { summary: 'The doctypes of the instance the token may read' },
  'GET /data/:doctype/': { summary: 'Database information of a doctype (doc_count, update_seq)' },
  'PUT /data/:doctype/': { summary: 'Creates the database of a doctype (PouchDB replication)' },
  'DELETE /data/:doctype/': { summary: 'Drops the database of a doctype' },
  'GET /data/:doctype/_all_docs': { summary: 'Every document of a doctype, CouchDB-style', query: { include_docs: 'true for the documents', limit: 'At most this many rows', skip: 'Rows to skip', startkey: 'JSON key to start at', endkey: 'JSON key to end at', keys: 'JSON array of ids', descending: 'true for the reverse order', Fields: 'Comma-separated fields to keep' } },
  'POST /data/:doctype/_all_docs': { summary: 'Documents by ids ({keys: […]}), CouchDB-style', query: { include_docs: 'true for the documents', Fields: 'Comma-separated fields to keep' } },
  'GET /data/:doctype/_normal_docs': { summary: 'The documents of a doctype without design docs, paginated (cozy-stack)', query: { limit: 'Page size', skip: 'Documents to skip', bookmark: 'The bookmark of the previous page' } },
  'POST /data/:doctype/_find': { summary: 'Mango query (selector, fields, sort, limit, bookmark)' },
  'POST /data/:doctype/_explain': { summary: 'Which index a Mango query would use' },
  'POST /data/:doctype/_index': { summary: 'Creates a Mango index' },
  'GET /data/:doctype/_index': { summary: 'Lists the Mango indexes of a doctype' },
  'DELETE /data/:doctype/_index/:ddoc/json/:name': { summary: 'Deletes a Mango index' },
  'GET /data/:doctype/_changes': { summary: 'The changes feed (normal or longpoll), CouchDB-style', query: { since: 'Sequence to start after', feed: 'normal or longpoll', limit: 'At most this many changes', include_docs: 'true for the documents', style: 'all_docs for every leaf revision', filter: '_doc_ids or _selector', timeout: 'Longpoll wait in ms' } },
  'POST /data/:doctype/_changes': { summary: 'The changes feed with a filter body (doc_ids or selector)' },
  'POST /data/:doctype/_bulk_docs': { summary: 'Writes many documents at once (new_edits=false for replication)' },
  'POST /data/:doctype/_bulk_get': { summary: 'Reads many documents and revisions at once (replication)', query: { revs: 'true for the revision histories', latest: 'true for the latest leaves', attachments: 'true for inline attachments' } },
  'POST /data/:doctype/_revs_diff': { summary: 'Which of the given revisions are missing (replication)' },
  'POST /data/:doctype/_ensure_full_commit': { summary: 'Flushes to disk (replication checkpoint; always answers ok)' },
  'GET /data/:doctype/_local/:id': { summary: 'Reads a local document (replication checkpoints)' },
  'PUT /data/:doctype/_local/:id': { summary: 'Writes a local document (replication checkpoints)' },
  'DELETE /data/:doctype/_local/:id': { summary: 'Deletes a local document', query: { rev: 'Its current revision' } },
  'GET /data/:doctype/_design_docs': { summary: 'Lists the design documents of a doctype' },
  'GET /data/:doctype/_design/:ddoc': { summary: 'Reads a design document' },
  'PUT /data/:doctype/_design/:ddoc': { summary: 'Writes a design document' },
  'DELETE /data/:doctype/_design/:ddoc': { summary: 'Deletes a design document', query: { rev: 'Its current revision' } },
  'POST /data/:doctype/_design/:ddoc/copy': { summary: 'Copies a design document', query: { rev: 'The revision to copy' } },
  'GET /data/:doctype/_design/:ddoc/_view/:view': { summary: 'Queries a view of a design document' },
  'GET /data/:doctype/_design/:ddoc/_info': { summary: 'Information about a design document' },
  'POST /data/:doctype/': { summary: 'Creates a document (the server picks its id): {ok, id, rev, type, data}' },
  'GET /data/:doctype/:docid': { summary: 'Reads a document', query: { rev: 'A given revision', revs: 'true for the revision history', open_revs: 'all, or a JSON array of revisions', attachments: 'true for inline attachments' } },
  'PUT /data/:doctype/:docid': { summary: 'Creates or updates a document at this id (_rev required to update)' },
  'DELETE /data/:doctype/:docid': { summary: 'Deletes a document', query: { rev: 'Its current revision (or If-Match)' } },
  'GET /data/:doctype/:docid/:att': { summary: 'Downloads an attachment of a document', query: { rev: 'A given revision' } },
  'GET /data/:doctype/:docid/relationships/references': { summary: 'The files that reference this document (JSON-API, paginated)', tag: 'files' },
  'POST /data/:doctype/:docid/relationships/references': { summary: 'Makes files reference this document', tag: 'files' },
  'DELETE /data/:doctype/:docid/relationships/references': { summary: 'Removes references from files to this document', tag: 'files' },
  // permissions
  'GET /permissions/self': { summary: 'The permission set behind the request\'s token' },
  'POST /permissions': { summary: 'Creates a share link: a subset of the caller\'s rights, with codes', query: { codes: 'Comma-separated names of the codes to make', ttl: 'Validity, e.g. 1D or 2h', tinycode: 'true for 6-digit short codes (ttl of an hour at most)' } },
  'POST /permissions/exists': { summary: 'For a list of {type, id}, which verbs the caller\'s share links grant' },
  'GET /permissions/doctype/:doctype/shared-by-link': { summary: 'The share links of a doctype (paginated)', query: { 'page[limit]': 'Page size (default 30, at most 100)', 'page[cursor]': 'The cursor of the previous page' } },
  'GET /permissions/doctype/:doctype/sharedByLink': { summary: 'Alias of /permissions/doctype/{doctype}/shared-by-link' },
  'GET /permissions/:id': { summary: 'Reads a permission set' },
  'PATCH /permissions/:id': { summary: 'Adds or removes rules and codes; changes password or expires_at' },
  'DELETE /permissions/:id': { summary: 'Revokes a share link' },
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
  'POST /jobs/queue/:worker': { summary: 'Queues a job (needs io.cozy.jobs POST on this worker): 202 and the job' },
  'GET /jobs/queue/:worker': { summary: 'The queued jobs of a worker' },
  'DELETE /jobs/purge': { summary: 'Deletes finished jobs older than a duration', query: { duration: 'How old, e.g. 2M (default) or 1W', workers: 'Comma-separated workers (default all)' } },
  'GET /jobs/:id': { summary: 'Reads a job' },
  'PATCH /jobs/:id': { summary: 'A client reports the end of the job it ran (@client triggers): done or errored' },
  'POST /jobs/webhooks/:id': { summary: 'Fires a @webhook trigger (no token; a JSON body becomes the job\'s payload)', query: { Manual: 'true to mark the run as manual' } },
  'POST /jobs/triggers': { summary: 'Creates a trigger (@at, @in, @every, @cron, @event, @webhook, @client…)' },
  'GET /jobs/triggers': { summary: 'Lists the triggers', query: { Worker: 'Comma-separated workers', Type: 'Comma-separated trigger types' } },
  'GET /jobs/triggers/:id': { summary: 'Reads a trigger' },
  'GET /jobs/triggers/:id/state': { summary: 'The current state of a trigger (last runs, last error)' },
  'GET /jobs/triggers/:id/jobs': { summary: 'The last jobs of a trigger', query: { Limit: 'At most this many jobs' } },
  'PATCH /jobs/triggers/:id': { summary: 'Changes a trigger\'s arguments or message' },
  'POST /jobs/triggers/:id/launch': { summary: 'Runs a trigger\'s job now' },
  'DELETE /jobs/triggers/:id': { summary: 'Deletes a trigger' },
  // realtime
  'GET /realtime/': { summary: 'The realtime WebSocket (Upgrade: websocket, subprotocol io.cozy.websocket): AUTH, then SUBSCRIBE to doctypes or documents' },
  'GET /realtime/sse': { summary: 'The same events as Server-Sent Events, for clients without WebSockets', query: { types: 'Comma-separated subscriptions: <doctype> or <doctype>/<id>' } },
  'POST /realtime/:doctype/:id': { summary: 'Sends a NOTIFIED event to the subscribers (not stored; needs POST on the document)' },
  // notifications
  'POST /notifications': { summary: 'Sends a notification to the owner (a category the sender declared)' },
  'GET /notifications': { summary: 'The owner\'s notifications, newest first, by pages', query: PAGE },
  'GET /notifications/:id': { summary: 'Reads a notification' },
  'GET /notifications/preferences': { summary: 'The owner\'s channels (mail, in-app) per notification category' },
  'PUT /notifications/preferences': { summary: 'Replaces the owner\'s notification preferences' },
  'PATCH /notifications/preferences': { summary: 'Changes some of the owner\'s notification preferences' },
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
