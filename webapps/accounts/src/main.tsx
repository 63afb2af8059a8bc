/**
 * Accounts (cozy's "My Accounts"): the installed konnectors and their accounts. Routes in the hash: `#/` the list,
 * `#/konnector/<slug>` one konnector (Home links there). The title and the focus follow the route.
 */
import '../../shared/ui.css';
import './app.css';
import { useEffect, useRef, useState } from 'preact/hooks';
import { mount } from '../../shared/mount';
import { AppBar, useBoot } from '../../shared/components';
import { DataProvider } from './data';
import { KonnectorList } from './KonnectorList';
import { KonnectorPage } from './KonnectorPage';
import { en, fr } from './locales';

function useHash(): string {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const on = () => setHash(location.hash);
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return hash;
}

function App() {
  const { data } = useBoot();
  const hash = useHash();
  const main = useRef<HTMLElement>(null);
  const m = /^#\/konnector\/([^/?]+)/.exec(hash);
  const slug = m?.[1] ? decodeURIComponent(m[1]) : null;
  const first = useRef(true);
  useEffect(() => {
    document.title = data.app.name;
    // after a navigation (not the first load), the new page's heading is where a screen reader continues
    if (first.current) first.current = false;
    else main.current?.focus();
  }, [slug]);
  return (
    <DataProvider>
      <AppBar />
      <main id="main" class="content" ref={main} tabIndex={-1}>{slug ? <KonnectorPage slug={slug} /> : <KonnectorList />}</main>
    </DataProvider>
  );
}
mount(App, { en, fr });
