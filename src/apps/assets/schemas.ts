/** Route schemas of the stack assets (one per route: validation, OpenAPI and serialization come from them). */
import { content, noContent, params, type RouteSchema } from '../../common/schemas.js';

const tags = ['assets'];
const file = (description: string) => content(description, ['text/css', 'text/javascript', 'font/woff2', 'font/woff', 'image/svg+xml', 'image/png', 'image/jpeg', 'image/x-icon', 'application/manifest+json']);

export const asset: RouteSchema = {
  summary: 'A stack asset (cozy-bar, cozy-client-js, fonts, theme CSS, icons, wallpaper); content-hashed names are immutable', tags,
  params: params({ '*': 'The asset name, e.g. fonts/fonts.css or js/cozy-bar.min.<hash>.js' }),
  response: { 200: file('The asset (ETag)'), 304: noContent('Not modified') },
};
export const robots: RouteSchema = { summary: 'robots.txt: the instance is not for crawlers', tags: ['public'], response: { 200: content('The rules', ['text/plain']) } };
export const securityTxt: RouteSchema = { summary: 'security.txt (RFC 9116): where to report a vulnerability', tags: ['public'], response: { 200: content('The contact', ['text/plain']) } };
