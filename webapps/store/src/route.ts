/** The Store's hash routes: `#/discover?type=&category=&q=`, `#/app/<slug>`, `#/installed`. */
import { useEffect, useState } from 'preact/hooks';

export interface Route { page: 'discover' | 'app' | 'installed'; slug: string; params: URLSearchParams }

export function parseHash(hash: string): Route {
  const [path = '', query = ''] = hash.replace(/^#\/?/, '').split('?', 2);
  const params = new URLSearchParams(query);
  const [head = '', rest = ''] = path.split('/', 2);
  if (head === 'app' && rest) {
    let slug = rest;
    try { slug = decodeURIComponent(rest); } catch { /* kept as is */ }
    return { page: 'app', slug, params };
  }
  return { page: head === 'installed' ? 'installed' : 'discover', slug: '', params };
}

export function hrefOf(page: 'discover' | 'installed', params: Record<string, string> = {}): string {
  const q = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== '')).toString();
  return `#/${page}${q ? `?${q}` : ''}`;
}

export function useRoute(): Route {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const on = () => setHash(location.hash);
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return parseHash(hash);
}
