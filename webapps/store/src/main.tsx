import '../../shared/ui.css';
import './app.css';
import type { JSX } from 'preact';
import { Compass, LayoutGrid } from 'lucide-preact';
import { mount } from '../../shared/mount';
import { AppBar, useBoot } from '../../shared/components';
import { AppPage } from './app-page';
import { StoreProvider } from './data';
import { Discover } from './discover';
import { InstalledPage } from './installed';
import { en, fr } from './locales';
import { useRoute } from './route';

function App(): JSX.Element {
  const { t } = useBoot();
  const route = useRoute();
  const type = route.params.get('type') ?? '';
  const category = route.params.get('category') ?? '';
  return (
    <StoreProvider>
      <AppBar />
      <div class="layout">
        <nav class="sidenav" aria-label={t('nav.label')}>
          <a href="#/discover" aria-current={route.page === 'discover' ? 'page' : undefined}><Compass size={20} aria-hidden="true" />{t('nav.discover')}</a>
          <a href="#/installed" aria-current={route.page === 'installed' ? 'page' : undefined}><LayoutGrid size={20} aria-hidden="true" />{t('nav.installed')}</a>
        </nav>
        <main id="main" class="content" tabIndex={-1}>
          {route.page === 'app' ? <AppPage key={route.slug} slug={route.slug} />
            : route.page === 'installed' ? <InstalledPage />
            : <Discover key={`${type}|${category}`} params={route.params} />}
        </main>
      </div>
    </StoreProvider>
  );
}
mount(App, { en, fr });
