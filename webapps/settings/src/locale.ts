/** How the profile page switches the app's language after saving the locale. */
import { createContext } from 'preact';
import type { T } from '../../shared/i18n';

/** Switches the app to `l` and gives the translator of that language (for a message shown right after). */
export const LocaleSetter = createContext<(l: 'en' | 'fr') => T>(() => (key) => key);
