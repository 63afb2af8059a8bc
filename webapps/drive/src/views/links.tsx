// Placeholder of the Drive split: the views helper replaces this module (same export). Route #/links: every link shared by the owner, with revoke.
import type { JSX } from 'preact';

export function LinksView(): JSX.Element {
  return <h1>Links</h1>;
}
