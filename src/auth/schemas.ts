/**
 * The schemas of the owner's login, passphrase, two-factor, session and app-password routes of this folder
 * (validation, OpenAPI, serialization: server/validation.ts). The HTML forms (login, two-factor, passphrase
 * choice and reset) answer their refusals with their page, so their bodies are documented here but checked
 * by their routes; the JSON routes' fields are checked by these schemas.
 */
import { content, jsonApi, noContent, params, passThrough, query, resource, str, type JsonSchema, type RouteSchema } from '../common/schemas.js';
import { APP_PASSWORDS_DOCTYPE } from '../permissions/app-passwords.js';
import { SECURITY_EVENT_KINDS } from './security-events.js';

const auth = ['auth'];
const settings = ['settings'];
const FORM = 'application/x-www-form-urlencoded';
const html = (description: string) => content(description, ['text/html']);
const redirect = (description: string) => noContent(`${description} (Location)`);
/** A derived passphrase (auth/passphrase.ts isDerivedPassphrase): base64 of 32 bytes. */
const DERIVED = '^[A-Za-z0-9+/]{43}=$';
const EXAMPLE = 'q3nKJ0sWgM0pMXJ7xW1m8oG4pQWbX7mEo0lH9l2kQ1Y=';
/**
 * A field documented but checked by its route (no type: a schema refusal would answer JSON where the form's
 * page, or a more precise error code, is due).
 */
const field = (description: string, example?: string): JsonSchema => ({ description, ...(example ? { example } : {}) });
const derived = (description: string): JsonSchema => field(`${description}: a string, base64 of 32 bytes`, EXAMPLE);
/** A form or JSON body: documented, not refused here (the page shows the route's own message). */
const formBody = (properties: Record<string, JsonSchema>): JsonSchema => ({ description: `A form (${FORM}) or JSON`, properties, additionalProperties: true });
const csrf = field('The CSRF token of the form (forms only; JSON bodies need none)');
const redirectField = field('Where to go after login (one of the instance\'s app addresses)');
const MIN_ITERATIONS = 1000;
const MAX_ITERATIONS = 10_000_000;
/** Checked here for forms too: the routes answered a bad value with a JSON 400 before the schemas as well. */
const iterations: JsonSchema = {
  description: 'The PBKDF2 iterations the client used (default: the instance\'s)', example: 100000,
  anyOf: [{ type: 'integer', minimum: MIN_ITERATIONS, maximum: MAX_ITERATIONS }, { type: 'string', pattern: `^(?:|0*(?:[1-9]\\d{3,6}|${MAX_ITERATIONS}))$` }],
  errorMessage: `"iterations" must be an integer between ${MIN_ITERATIONS} and ${MAX_ITERATIONS}`,
};
const JSON_ANSWER = 'With a JSON body, JSON answers';

const kdf: JsonSchema = {
  type: 'object', additionalProperties: true,
  properties: { salt: { type: 'string' }, kdf: { type: 'integer', description: '0: PBKDF2-SHA256' }, iterations: { type: 'integer' } },
  example: { salt: 'me@alice.example.org', kdf: 0, iterations: 100000 },
};

export const home: RouteSchema = {
  summary: 'Redirects to the home app, the login page or the onboarding', tags: auth,
  querystring: query({ registerToken: 'The onboarding token, passed on to the onboarding page' }),
  response: { 200: html('The home page (with a session, until the default app is installed)'), 303: redirect('To the default app, the login page or the onboarding') },
};
export const kdfParams: RouteSchema = {
  summary: 'The KDF parameters a client uses to derive the passphrase it sends', tags: settings,
  response: { 200: { description: 'The parameters', ...kdf } },
};
export const prelogin: RouteSchema = {
  summary: 'What a native client needs before login: the KDF and its iterations, the owner\'s public name', tags: ['public'],
  response: {
    200: {
      description: 'cozy-stack\'s prelogin (Bitwarden\'s names) and the fields of GET /settings/passphrase', ...kdf,
      properties: { ...(kdf.properties as JsonSchema), Kdf: { type: 'integer' }, KdfIterations: { type: 'integer' }, OIDC: { type: 'boolean' }, FranceConnect: { type: 'boolean' }, magic_link: { type: 'boolean' }, name: { type: 'string' } },
    },
  },
};

export const preflight: RouteSchema = {
  summary: 'Preflight of /auth, answered without CORS headers (cozy-stack disables CORS on /auth)', tags: auth,
  params: params({ '*': 'The rest of the path' }),
  response: { 204: noContent('No CORS headers') },
};

// ---- login, logout ----

export const loginPage: RouteSchema = {
  summary: 'The login page (HTML)', tags: auth,
  querystring: query({ redirect: redirectField }),
  response: { 200: html('The login page'), 303: redirect('Already logged in: to the redirect') },
};
export const login: RouteSchema = {
  summary: 'Logs the owner in (form: passphrase, redirect): a session cookie and a redirect, or a redirect (303) to the two-factor page', tags: auth,
  body: formBody({ passphrase: derived('The derived passphrase (GET /settings/passphrase says how)'), redirect: redirectField, csrf_token: csrf }),
  response: {
    200: passThrough(`${JSON_ANSWER}: {two_factor_token} for the two-factor step, or {redirect} once logged in (the session cookie)`),
    303: redirect('Logged in: the session cookie, to the redirect; or to the two-factor page'),
  },
};
export const logout: RouteSchema = {
  summary: 'Logs the current session out (the session cookie from the instance\'s own pages, or with an app token; another Origin is refused)', tags: auth,
  response: { 204: noContent('Logged out: the cookie is cleared') },
};
export const logoutOthers: RouteSchema = { summary: 'Logs out every other session of the owner (same Origin check as DELETE /auth/login)', tags: auth, response: { 204: noContent('Logged out') } };

// ---- two-factor ----

export const twoFactorPage: RouteSchema = {
  summary: 'The two-factor passcode page (HTML); the form posts of the login land here (Post/Redirect/Get)', tags: auth,
  querystring: query({
    two_factor_token: 'The token the login step gave', redirect: redirectField,
    client_id: field('The move wizard\'s client: the second factor of a move\'s consent (POST /auth/authorize/move sends here)'),
    state: field('The move wizard\'s state (kept with the token: not read)'),
    error: field('wrong, missing or mail_rate: the message to show'), left: field('With error=wrong: the attempts left before the lock-out'),
  }),
  response: { 200: html('The passcode page'), 303: redirect('No valid token: to the login page') },
};
export const twoFactorLogin: RouteSchema = {
  summary: 'Second login step: the two-factor token and a passcode (TOTP, mailed or recovery code) give the session; a wrong code redirects (303) to the page', tags: auth,
  body: formBody({
    two_factor_token: field('The token the login step gave (forms: two-factor-token)'), two_factor_passcode: field('The passcode or a recovery code (forms: two-factor-passcode)'),
    redirect: redirectField, csrf_token: csrf,
    client_id: field('With the token of a move\'s consent: the wizard\'s client; the answer goes back to the wizard with an access code, no session'),
  }),
  response: {
    200: passThrough(`${JSON_ANSWER}: {redirect}, with the session cookie (a move's consent: the wizard's address with the access code)`),
    303: redirect('Logged in: the session cookie, to the redirect (a move\'s consent: to the wizard with the access code)'),
  },
};
export const totpStart: RouteSchema = {
  summary: 'Starts authenticator-app enrolment: a TOTP secret and its QR code', tags: settings,
  response: { 200: { description: 'The secret (base32), its otpauth:// URI and the QR code of it (SVG)', type: 'object', properties: { secret: { type: 'string' }, otpauth_uri: { type: 'string' }, qr_svg: { type: 'string' } } } },
};
export const totpConfirm: RouteSchema = {
  summary: 'Confirms the enrolment with a first passcode: two-factor is on, recovery codes are given once', tags: settings,
  body: { properties: { code: field('The code the authenticator app shows now', '123456') }, additionalProperties: true },
  response: { 200: { description: 'Two-factor is on; the recovery codes, shown once', type: 'object', properties: { auth_mode: { type: 'string' }, recovery_codes: { type: 'array', items: { type: 'string' } } } } },
};
const passphraseField = derived('The derived passphrase (checked: its failures count in the login lock-out)');
export const recoveryCodesLeft: RouteSchema = {
  summary: 'How many recovery codes are left (two-factor with an authenticator app)', tags: settings,
  response: { 200: { description: 'The count', type: 'object', properties: { auth_mode: { type: 'string' }, recovery_codes_left: { type: 'integer' } } } },
};
export const renewRecoveryCodes: RouteSchema = {
  summary: 'Replaces the recovery codes with new ones, given once (the passphrase is required; the old codes stop working)', tags: settings,
  body: { properties: { passphrase: derived('The derived passphrase (checked: its failures count in the login lock-out)') }, additionalProperties: true },
  response: { 200: { description: 'The new recovery codes, shown once', type: 'object', properties: { recovery_codes: { type: 'array', items: { type: 'string' } } } } },
};
export const twoFactorOff: RouteSchema = {
  summary: 'Turns two-factor authentication off (the passphrase is required)', tags: settings,
  body: { properties: { passphrase: passphraseField }, additionalProperties: true },
  response: { 204: noContent('Two-factor is off') },
};
const AUTH_MODE = 'auth_mode must be "basic" or "two_factor_mail"';
export const authMode: RouteSchema = {
  summary: 'Sets the auth mode (basic or two_factor_mail; the mail mode is confirmed with a mailed code)', tags: settings,
  body: {
    type: 'object', required: ['auth_mode'], additionalProperties: true, errorMessage: AUTH_MODE, errorCode: 'invalid_auth_mode',
    properties: {
      // two_factor_totp passes: the route says how to enrol an authenticator app
      auth_mode: { enum: ['basic', 'two_factor_mail', 'two_factor_totp'], description: 'basic or two_factor_mail (two_factor_totp: enrol with POST /settings/twofactor/totp)', errorMessage: AUTH_MODE },
      passphrase: derived('To go back to basic: the derived passphrase'),
      two_factor_activation_code: field('two_factor_mail, second step: the mailed code (without it, a code is mailed)'),
    },
    example: { auth_mode: 'two_factor_mail', two_factor_activation_code: '123456' },
  },
  response: { 204: noContent('Set (or a code was mailed)') },
};

// ---- passphrase: onboarding, change, reset ----

export const registerPage: RouteSchema = {
  summary: 'Onboarding: the page where the owner sets the first passphrase (HTML)', tags: auth,
  querystring: query({ registerToken: 'The onboarding token of the registration link' }),
  response: { 200: html('The page') },
};
export const register: RouteSchema = {
  summary: 'Onboarding: sets the first passphrase with the registration token', tags: settings,
  body: formBody({ register_token: field('The onboarding token'), passphrase: derived('The derived passphrase chosen'), iterations, csrf_token: csrf }),
  response: { 200: passThrough(`${JSON_ANSWER}: {redirect}, with the session cookie`), 303: redirect('Done: the session cookie, to the home') },
};
export const changePassphrase: RouteSchema = {
  summary: 'Changes the passphrase (the current one is required); other sessions are logged out', tags: settings,
  body: {
    type: 'object', required: ['new_passphrase'], additionalProperties: true,
    properties: {
      current_passphrase: derived('The current passphrase, derived'),
      new_passphrase: { type: 'string', pattern: DERIVED, description: 'The new passphrase, derived', example: EXAMPLE, errorMessage: '"new_passphrase" must be a derived passphrase (see GET /settings/passphrase)' },
      iterations,
    },
  },
  response: { 204: noContent('Changed') },
};
export const checkPassphrase: RouteSchema = {
  summary: 'Checks the owner\'s passphrase (204 or 403), e.g. before a sensitive action', tags: settings,
  body: { properties: { passphrase: derived('The derived passphrase') }, additionalProperties: true },
  response: { 204: noContent('It is the passphrase') },
};
export const resetPage: RouteSchema = { summary: 'The page to ask for a passphrase reset link by mail (HTML)', tags: auth, response: { 200: html('The page') } };
export const reset: RouteSchema = {
  summary: 'Mails a passphrase reset link to the owner (the answer does not say whether a mail went out)', tags: auth,
  body: formBody({ csrf_token: csrf }),
  response: { 200: html('"Check your mailbox"') },
};
export const renewPage: RouteSchema = {
  summary: 'The page to choose a new passphrase with a mailed reset token (HTML)', tags: auth,
  querystring: query({ token: 'The reset token of the mailed link' }),
  response: { 200: html('The page') },
};
export const renew: RouteSchema = {
  summary: 'Sets a new passphrase with a mailed reset token', tags: auth,
  body: formBody({ token: field('The reset token of the mailed link'), passphrase: derived('The new derived passphrase'), iterations, csrf_token: csrf }),
  response: { 303: redirect('Done: every session ended, to the login page') },
};
export const security: RouteSchema = {
  summary: 'The owner\'s security page: sessions, connected clients, two-factor (HTML, session cookie)', tags: auth,
  response: { 200: html('The page'), 303: redirect('No session: to the login page') },
};

// ---- sessions, app passwords ----

const session = resource('io.cozy.sessions', {
  type: 'object', additionalProperties: true,
  properties: {
    created_at: { type: 'string' }, last_seen: { type: 'string' }, expires_at: { type: 'string' }, long_run: { type: 'boolean' }, user_agent: { type: ['string', 'null'] }, ip: { type: ['string', 'null'] },
    kind: { type: 'string', enum: ['web', 'app-token'], description: 'web (a browser) or app-token (the session of a command-line app token)' },
  },
});
const count = { meta: { type: 'object', properties: { count: { type: 'integer' } } } };
export const sessions: RouteSchema = {
  summary: 'The owner\'s open sessions (JSON-API); attributes.kind is web (a browser) or app-token (the session of a command-line app token)', tags: settings,
  response: { 200: jsonApi('The sessions', { type: 'array', items: session }, count) },
};
export const currentSession: RouteSchema = { summary: 'The session of this request (JSON-API)', tags: settings, response: { 200: jsonApi('The session', session) } };
export const securityEvents: RouteSchema = {
  summary: 'The owner\'s security events, newest first (logins, failed logins, passphrase and two-factor changes, sessions ended, e-mail changes), paged', tags: settings,
  querystring: query({ 'page[limit]': 'At most this many (30 by default, 100 at most)', 'page[cursor]': 'From links.next of the page before' }),
  response: { 200: jsonApi('The events', { type: 'array', items: resource('io.cozy.hearth.security_events', { type: 'object', additionalProperties: true, properties: {
    kind: { type: 'string', enum: [...SECURITY_EVENT_KINDS] }, at: { type: 'string' }, ip: { type: ['string', 'null'] }, user_agent: { type: ['string', 'null'] },
    detail: {
      type: 'object', additionalProperties: false, description: 'The e-mail events\' old (from) and new (to) addresses, masked: a***@example.org',
      properties: { from: { type: ['string', 'null'] }, to: { type: ['string', 'null'] } },
    },
  } }) }, count) },
};
export const revokeSession: RouteSchema = {
  summary: 'Ends one of the owner\'s sessions (that browser is logged out at its next request)', tags: settings, params: params({ id: 'The session\'s id' }),
  response: { 204: noContent('Ended') },
};

const LABEL = 'give the app password a "label" (what it is for, e.g. "rclone on my laptop")';
const SCOPE = '"scope" is a permission scope such as "io.cozy.files" or "io.cozy.files:GET"';
const appPasswordFields: JsonSchema = {
  type: 'object', required: ['label'], additionalProperties: true, errorMessage: LABEL,
  properties: {
    label: { type: 'string', pattern: '\\S', description: 'What it is for', errorMessage: LABEL },
    scope: { type: 'string', pattern: '\\S', description: 'The rights (default: the files)', errorMessage: SCOPE },
  },
};
const appPassword = (withPassword: boolean) => resource(APP_PASSWORDS_DOCTYPE, {
  type: 'object', additionalProperties: true,
  properties: { label: { type: 'string' }, scope: { type: 'string' }, created_at: { type: 'string' }, last_used_at: { type: ['string', 'null'] }, ...(withPassword ? { password: str('The password, shown this once') } : {}) },
});
export const createAppPassword: RouteSchema = {
  summary: 'Creates an app password (WebDAV, sync clients): shown once in the answer', tags: settings,
  // a plain JSON body or a JSON-API one
  body: {
    type: 'object', errorMessage: LABEL,
    if: { required: ['data'] }, then: { properties: { data: { type: 'object', required: ['attributes'], properties: { attributes: appPasswordFields } } } }, else: appPasswordFields,
    example: { label: 'rclone on my laptop', scope: 'io.cozy.files' },
  },
  response: { 201: jsonApi('The app password, with the password this once', appPassword(true)) },
};
export const appPasswords: RouteSchema = {
  summary: 'Lists the app passwords (never the passwords themselves)', tags: settings,
  response: { 200: jsonApi('The app passwords', { type: 'array', items: appPassword(false) }, count) },
};
export const revokeAppPassword: RouteSchema = {
  summary: 'Revokes an app password', tags: settings, params: params({ id: 'The app password\'s id' }),
  response: { 204: noContent('Revoked (at the next request)') },
};

