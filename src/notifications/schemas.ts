/**
 * The schemas of /notifications (validation, OpenAPI, serialization: server/validation.ts). The types and
 * values a schema can check are checked here; what needs the clock or the sizes cozy-stack answers 413 for
 * (validate.ts), and the categories the instance knows (preferences.ts), stay in the domain.
 */
import { JSONAPI, jsonApi, openObject, params, query, resource, type JsonSchema, type RouteSchema } from '../common/schemas.js';
import { MAX_KEYS, PREFS_DOCTYPE } from './preferences.js';
import { NOTIFICATIONS_DOCTYPE } from './types.js';
import { CHANNELS, MAX } from './validate.js';

const tags = ['notifications'];
const ENVELOPE = `the body must be JSON-API: {"data": {"type": "${NOTIFICATIONS_DOCTYPE}", "attributes": {"category": …, "title": …}}}`;
const text = (key: string, description: string, max: number): JsonSchema => ({
  type: ['string', 'null'], description: `${description} (at most ${max} characters)`, errorMessage: `Notification is not valid: "${key}" must be a string`,
});

const attributes: JsonSchema = {
  type: 'object', additionalProperties: true,
  properties: {
    category: text('category', 'A category the sender declared (required)', MAX.category),
    category_id: text('category_id', 'Groups the notifications of a category', MAX.categoryId),
    title: text('title', 'The title (required)', MAX.title),
    message: text('message', 'The text', MAX.message),
    content: text('content', 'The mail\'s text', MAX.content),
    content_html: text('content_html', 'The mail\'s HTML', MAX.contentHtml),
    priority: { enum: ['high', 'normal', '', null], errorMessage: '"priority" must be "high" or "normal"' },
    state: { type: ['string', 'number', 'boolean', 'null'], description: `Same state as the last one of this category_id: not sent again (strings: at most ${MAX.state} characters)`, errorMessage: '"state" must be a string, a number or a boolean' },
    preferred_channels: {
      type: ['array', 'null'], maxItems: CHANNELS.length, items: { enum: [...CHANNELS] },
      errorMessage: `"preferred_channels" must be a list of ${CHANNELS.map((x) => `"${x}"`).join(', ')}`,
    },
    data: { type: ['object', 'null'], description: `Any key/value map (at most ${MAX.data} bytes of JSON)`, errorMessage: '"data" must be an object (a key/value map)' },
    at: { description: 'When to send it: an RFC 3339 date with a time zone, up to 366 days ahead (default: now)' },
  },
};

const notification = resource(NOTIFICATIONS_DOCTYPE, openObject('category, category_id, title, message, priority, state, data, created_at…'));
const count = { meta: openObject('count, unread (how many have no read_at)') };

export const send: RouteSchema = {
  summary: 'Sends a notification to the owner (a category the sender declared)', tags,
  body: {
    type: 'object', required: ['data'], errorMessage: ENVELOPE,
    properties: {
      data: {
        type: 'object', required: ['attributes'],
        properties: { type: { const: NOTIFICATIONS_DOCTYPE, errorMessage: `data.type must be "${NOTIFICATIONS_DOCTYPE}"` }, attributes },
      },
    },
    example: { data: { type: NOTIFICATIONS_DOCTYPE, attributes: { category: 'new-bills', title: '3 new bills', message: 'From your energy supplier' } } },
  },
  response: {
    200: jsonApi('Unchanged (same state as the last one): not sent again', notification),
    201: jsonApi('Sent (meta.channels) or scheduled (meta.scheduled_at)', notification),
  },
};
export const list: RouteSchema = {
  summary: 'The owner\'s notifications, newest first, by pages', tags,
  querystring: query({ 'page[limit]': 'Page size', 'page[cursor]': 'The cursor of the previous page' }),
  response: { 200: jsonApi('A page (links.next for the next one)', { type: 'array', items: notification }, { ...count, links: openObject('next') }) },
};
const READ_BODY = 'the body must be JSON-API: {"data": {"attributes": {"read": true}}}';
export const markRead: RouteSchema = {
  summary: 'Marks a notification read or unread (a Hearth extension: read_at is set or removed)', tags, params: params({ id: 'The notification\'s id' }),
  body: {
    type: 'object', required: ['data'], errorMessage: READ_BODY,
    properties: {
      data: {
        type: 'object', required: ['attributes'], errorMessage: READ_BODY,
        properties: { attributes: { type: 'object', required: ['read'], errorMessage: READ_BODY, properties: { read: { type: 'boolean', errorMessage: '"read" must be true or false' } } } },
      },
    },
    example: { data: { type: NOTIFICATIONS_DOCTYPE, attributes: { read: true } } },
  },
  response: { 200: jsonApi('The notification as marked', notification) },
};
export const markAllRead: RouteSchema = {
  summary: 'Marks every unread notification read (a Hearth extension)', tags,
  response: { 200: { description: 'meta.count: how many were marked', content: { [JSONAPI]: { schema: { type: 'object', properties: { meta: openObject('count') }, additionalProperties: true } } } } },
};
export const read: RouteSchema = {
  summary: 'Reads a notification', tags, params: params({ id: 'The notification\'s id' }),
  response: { 200: jsonApi('The notification', notification) },
};

const prefs = resource(PREFS_DOCTYPE, openObject('categories: key → {mail, in_app, default, category, slug, description}'));
const CATEGORIES = 'the body must be JSON-API: {"data": {"attributes": {"categories": {"system": {"mail": false}}}}}';
const prefsBody: JsonSchema = {
  type: 'object', required: ['data'], errorMessage: CATEGORIES,
  properties: {
    data: {
      type: 'object', required: ['attributes'],
      properties: {
        attributes: {
          type: 'object', required: ['categories'],
          properties: {
            categories: {
              type: 'object', description: 'category key → {mail: true|false|"requested"|null, in_app: true|false|null} (null resets a channel)',
              allOf: [{ maxProperties: MAX_KEYS, errorMessage: `at most ${MAX_KEYS} categories at once` }],
            },
          },
        },
      },
    },
  },
  example: { data: { attributes: { categories: { system: { mail: false } } } } },
};
export const preferences: RouteSchema = {
  summary: 'The owner\'s channels (mail, in-app) per notification category', tags,
  response: { 200: jsonApi('The preferences', prefs) },
};
export const replacePreferences: RouteSchema = {
  summary: 'Replaces the owner\'s notification preferences', tags, body: prefsBody,
  response: { 200: jsonApi('The preferences as set', prefs) },
};
export const changePreferences: RouteSchema = {
  summary: 'Changes some of the owner\'s notification preferences', tags, body: prefsBody,
  response: { 200: jsonApi('The preferences as changed', prefs) },
};
