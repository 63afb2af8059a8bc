/** How a folder's pages after the first are shown while they arrive (listing-data.ts). */

/** Files of the pages after the first gathered, at least, before they are shown. */
export const BATCH = 300;

/**
 * Whether the files gathered since the listing last changed are shown now (each change sorts and renders the whole
 * listing): once there are as many as BATCH and as many as are shown already, so that a folder of n files is
 * rendered about log2(n / BATCH) times while it loads, not n / BATCH times; and not when fewer than BATCH are left
 * (`left`, from the folder's count), which come with the last page.
 */
export function showNow(gathered: number, shown: number, left?: number): boolean {
  return gathered >= Math.max(BATCH, shown) && (left === undefined || left >= BATCH);
}
