/** The schemas of the OAuth clients' usage routes under /settings (usage-routes.ts). */
import { content, jsonApi, noContent, query, resource, str, type RouteSchema } from '../common/schemas.js';

const tags = ['settings'];

export const synchronized: RouteSchema = {
  summary: 'Records that the OAuth client behind the token has just synchronized (its synchronized_at)', tags,
  response: { 204: noContent('Recorded') },
};

export const clientsUsage: RouteSchema = {
  summary: 'How many OAuth clients of the owner\'s devices are connected, against the limit of the flag cozy.oauthclients.max', tags,
  response: {
    200: jsonApi('The usage', resource('io.cozy.settings', {
      type: 'object',
      properties: { limit: { type: 'integer', description: 'Absent when there is no limit' }, count: { type: 'integer' }, limitReached: { type: 'boolean' }, limitExceeded: { type: 'boolean' } },
    })),
  },
};

export const limitExceeded: RouteSchema = {
  summary: 'The page shown when the owner has more connected devices than allowed, or a redirect when there are not too many', tags,
  querystring: query({ redirect: str('Where to go when the limit is not exceeded (an address of the instance or of one of its apps; default: the default redirection)'), isFlagship: 'true from the flagship app' }),
  response: { 200: content('The page naming the limit and linking to the connected devices', ['text/html']), 302: noContent('To redirect (Location)') },
};

export const disconnect: RouteSchema = {
  summary: 'From the limit-exceeded page: disconnects one of the owner\'s devices (its OAuth client and tokens), then back to the page (Hearth\'s)', tags: ['auth'],
  body: {
    type: 'object', description: 'The page\'s form (application/x-www-form-urlencoded)', additionalProperties: true, required: ['client_id'],
    properties: { client_id: str('The device\'s OAuth client'), csrf_token: str('The form\'s CSRF token'), back: str('The page to come back to (a path of the instance)') },
  },
  response: { 303: noContent('Back to the page that asked (Location)') },
};
