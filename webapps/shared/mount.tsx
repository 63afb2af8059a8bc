/** Starts a built-in app: boot (client, locale), the providers, then its root component in the application element. */
import type { ComponentType } from 'preact';
import { render } from 'preact';
import { boot, type Boot } from './boot';
import { BootContext, Toasts } from './components';
import { ERROR_STRINGS } from './errors';
import type { Dict } from './i18n';

const SHARED = {
  en: { ...ERROR_STRINGS.en, 'common.skip': 'Skip to content' },
  fr: { ...ERROR_STRINGS.fr, 'common.skip': 'Aller au contenu' },
};

export function mount(App: ComponentType, dicts: { en: Dict; fr: Dict }): Boot {
  const b = boot({ en: { ...SHARED.en, ...dicts.en }, fr: { ...SHARED.fr, ...dicts.fr } });
  const root = document.querySelector('[role=application]');
  if (!root) throw new Error('no [role=application] element');
  root.textContent = '';
  render(<BootContext.Provider value={b}><Toasts t={b.t}><App /></Toasts></BootContext.Provider>, root);
  return b;
}
