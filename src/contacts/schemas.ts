/** The schemas of the /contacts routes (routes.ts). */
import { jsonApi, openObject, resource, type RouteSchema } from '../common/schemas.js';

export const myself: RouteSchema = {
  summary: 'The owner\'s own contact (me: true), created from the instance settings\' public name and email when missing', tags: ['contacts'],
  response: { 200: jsonApi('The io.cozy.contacts document', resource('io.cozy.contacts', openObject('The contact: me, fullname, displayName, email, cozy, indexes…'))) },
};
