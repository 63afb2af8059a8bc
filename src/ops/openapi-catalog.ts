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

const PAGE = { 'page[limit]': 'Page size', 'page[cursor]': 'The cursor of the previous page' };

export const CATALOG: Record<string, RouteDoc> = {
  // status (any host)
  'OPTIONS *': { summary: 'CORS preflight' },
  // home, public
  'GET /': { summary: 'Redirects to the home app, the login page or the onboarding', tag: 'auth' },
  'GET /public/prelogin': { summary: 'What a native client needs before login: the KDF and its iterations, the owner\'s public name', tag: 'public' },
  // auth
  'OPTIONS /auth/*': { summary: 'Preflight of /auth, answered without CORS headers (cozy-stack disables CORS on /auth)' },
  'GET /auth/login': { summary: 'The login page (HTML)', query: { redirect: 'Where to go after login (one of the instance\'s app addresses)' } },
  'POST /auth/login': { summary: 'Logs the owner in (form: passphrase, redirect): a session cookie and a redirect, or a two-factor step' },
  'DELETE /auth/login': { summary: 'Logs the current session out (needs the app token and the session cookie)' },
  'DELETE /auth/login/others': { summary: 'Logs out every other session of the owner' },
  'GET /auth/twofactor': { summary: 'The two-factor passcode page (HTML)', query: { two_factor_token: 'The token the login step gave', redirect: 'Where to go after login' } },
  'POST /auth/twofactor': { summary: 'Second login step: the two-factor token and a passcode (TOTP, mailed or recovery code) give the session' },
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
  'GET /settings/sessions': { summary: 'The owner\'s open sessions (JSON-API)' },
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
  // data
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
  // WebDAV
  // jobs
  // realtime
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
