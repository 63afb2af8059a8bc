/** How the profile page switches the app's language after saving the locale. */
import { createContext } from 'preact';

export const LocaleSetter = createContext<(l: 'en' | 'fr') => void>(() => undefined);
