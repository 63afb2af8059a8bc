/** The schemas of the small /settings routes apps call at start (start-routes.ts). */
import { jsonApi, noContent, passThrough, resource, str, type RouteSchema } from '../common/schemas.js';

const TYPE = 'io.cozy.settings';
const tags = ['settings'];

export const onboarded: RouteSchema = {
  summary: 'Ends the onboarding and redirects to the onboarded redirection (the login page without a session)', tags,
  response: { 303: noContent('To the app of the onboarded redirection, or to /auth/login (Location)') },
};

export const warnings: RouteSchema = {
  summary: 'The warnings the owner must act on (the latest terms of service to sign): 404 with an empty list when there is none', tags,
  description: 'As cozy-stack, "no warning" is a 404 whose body is {"errors": []}; warnings are JSON-API errors in that list, answered with the first one\'s status (402 for terms to sign).',
  response: { 402: passThrough('The warnings: {"errors": [{status, title, code, detail}]}'), 404: passThrough('No warning: {"errors": []}') },
};

export const getHint: RouteSchema = {
  summary: 'Whether the owner set a passphrase hint: 204 when there is one, 404 otherwise (the hint itself is only mailed)', tags,
  response: { 204: noContent('A hint is set') },
};

export const putHint: RouteSchema = {
  summary: 'Sets the passphrase hint (422 when it is the passphrase itself; an empty hint removes it)', tags,
  body: {
    type: 'object', required: ['hint'], additionalProperties: true,
    properties: { hint: str('The hint', { maxLength: 1024, errorMessage: '"hint" must be a string of at most 1024 characters' }) },
    errorMessage: { required: 'send {"hint": "…"}', type: 'send {"hint": "…"}' },
    example: { hint: 'the name of my first cat' },
  },
  response: { 204: noContent('Stored') },
};

export const externalTies: RouteSchema = {
  summary: 'Whether a subscription outside the instance blocks its deletion (never, on Hearth)', tags,
  response: { 200: jsonApi('The external ties', resource(TYPE, { type: 'object', properties: { has_blocking_subscription: { type: 'boolean' } } })) },
};
