/**
 * The path of a Drive page's first request, from its URL's fragment alone: what both the app (DriveApi) and the early
 * script (first-page.early.ts) ask for. Imports nothing, so that the early script stays a few hundred bytes.
 */

/** A folder's first page is small, so that its first rows come fast (the JSON of 50 files is about 40 KB). */
export const FIRST_PAGE = 50;

export const folderFirstPath = (dirId: string): string => `/files/${encodeURIComponent(dirId)}?page[limit]=${FIRST_PAGE}`;
export const trashFirstPath = `/files/trash?page[limit]=${FIRST_PAGE}`;
