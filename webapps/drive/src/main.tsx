import '../../shared/ui.css';
import { mount } from '../../shared/mount';
import { AppBar } from '../../shared/components';
import { DevRoutes } from './dev-routes';
import { en, fr } from './locales';

function App() {
  return <><AppBar /><main id="main" class="content"><DevRoutes /></main></>;
}
mount(App, { en, fr });
