import '../../shared/ui.css';
import { mount } from '../../shared/mount';
import { AppBar } from '../../shared/components';
import { en, fr } from './locales';

function App() {
  return <><AppBar /><main id="main" class="content"><h1>Settings</h1></main></>;
}
mount(App, { en, fr });
