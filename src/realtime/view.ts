/**
 * What the realtime events show of a stored document: as /data serves it to everyone, so the files'
 * internal fields (blob keys, the thumbnails' link secret, WebDAV's dead properties) never go out.
 * Events are encoded once for all subscribers, so no view depends on who listens.
 */
import type { Doc } from '../data/store.js';
import { publicFileDoc } from '../files/data-view.js';
import { FILES_DOCTYPE } from '../files/types.js';
import { VERSIONS_DOCTYPE } from '../files/versions.js';
import type { DocView } from './hub.js';

export const realtimeView: DocView = (doctype, doc) => (doctype === FILES_DOCTYPE || doctype === VERSIONS_DOCTYPE ? publicFileDoc(doc as Doc) : doc);
