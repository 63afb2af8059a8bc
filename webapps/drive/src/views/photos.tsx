// Placeholder of the Drive split: the views helper replaces this module (same export). Route #/photos.
import type { JSX } from 'preact';

export function PhotosView(): JSX.Element {
  return <h1>Photos</h1>;
}
