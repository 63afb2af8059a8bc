/**
 * Drive's views and dialogs that the first paint of a folder does not need, each a chunk loaded when first shown (and
 * fetched ahead once the page is idle: `prefetchViews`).
 */
import { lazy } from '../../shared/lazy';

export const Preview = lazy(() => import('./views/preview').then((m) => m.Preview));
export const ShareDialog = lazy(() => import('./views/share').then((m) => m.ShareDialog));
export const VersionsDialog = lazy(() => import('./views/versions').then((m) => m.VersionsDialog));
export const PhotosView = lazy(() => import('./views/photos').then((m) => m.PhotosView));
export const LinksView = lazy(() => import('./views/links').then((m) => m.LinksView));
export const NameDialog = lazy(() => import('./dialogs').then((m) => m.NameDialog));
export const ConfirmDialog = lazy(() => import('./dialogs').then((m) => m.ConfirmDialog));
export const FolderPicker = lazy(() => import('./dialogs').then((m) => m.FolderPicker));
export const DetailsDialog = lazy(() => import('./dialogs').then((m) => m.DetailsDialog));
export const CopyDialog = lazy(() => import('./copy-dialog').then((m) => m.CopyDialog));

export function prefetchViews(): void {
  for (const view of [Preview, ShareDialog, VersionsDialog, PhotosView, LinksView, NameDialog]) view.prefetch();
}
