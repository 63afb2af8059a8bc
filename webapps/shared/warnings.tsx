/**
 * The instance's warnings (GET /settings/warnings: cozy-stack's answer is 404 when there is none, else the list as
 * JSON-API errors with the first one's status, 402 for terms of service to sign) as a banner at the top of the page.
 * This module reads them and keeps "Later" (hidden in this tab's session only); the banner's strings in two languages
 * (warnings-strings.ts) are a chunk loaded only when there is a warning to show or a failure to say, which most loads
 * of a page do not have. (The banner's component stays in the page's script: in a chunk of its own, it would take
 * Preact and the other modules it shares with the page into chunks of their own too, more bytes at load than it saves.) The list is read again when the page comes back into view (the owner
 * accepted the terms in another tab), and a handled warning goes away.
 */
import './warnings.css';
import type { JSX } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { useBoot } from './components';
import { useFirstRequest } from './first-request';
import type { WARNING_STRINGS } from './warnings-strings';
import { WarningsView, type InstanceWarning } from './warnings-view';

const HIDDEN_KEY = 'hearth.warnings.later';

const hiddenCodes = (): string[] => {
  try {
    return JSON.parse(sessionStorage.getItem(HIDDEN_KEY) ?? '[]') as string[];
  } catch {
    return [];
  }
};

/** The warnings, or null while the first answer is awaited; a 404 is "none". */
function useWarnings(): { list: InstanceWarning[] | null; error: unknown; reload: () => void } {
  const { client } = useBoot();
  const [state, setState] = useState<{ list: InstanceWarning[] | null; error: unknown }>({ list: null, error: null });
  const request = useFirstRequest(() => client.getStackClient().fetchJSON('GET', '/settings/warnings'));
  const reload = useCallback(() => {
    request().then(
      (res) => setState({ list: (res as { errors?: InstanceWarning[] }).errors ?? [], error: null }),
      (e: unknown) => {
        const status = (e as { status?: number }).status;
        const errors = (e as { reason?: { errors?: InstanceWarning[] } }).reason?.errors;
        if (status === 404) setState({ list: [], error: null });
        else if (status !== undefined && status < 500 && Array.isArray(errors) && errors.length > 0) setState({ list: errors, error: null });
        else setState((s) => ({ list: s.list, error: e }));
      },
    );
  }, [client]);
  useEffect(() => {
    reload();
    const onShow = () => { if (document.visibilityState === 'visible') reload(); };
    document.addEventListener('visibilitychange', onShow);
    addEventListener('pageshow', onShow);
    return () => {
      document.removeEventListener('visibilitychange', onShow);
      removeEventListener('pageshow', onShow);
    };
  }, [reload]);
  return { ...state, reload };
}

let strings: typeof WARNING_STRINGS | null = null;

/**
 * The banner's strings, once needed: nothing is shown until they are there. A failed load (the network) is tried
 * again at the next answer (`read`: a new one at each reading of the warnings).
 */
function useStrings(needed: boolean, read: unknown): typeof WARNING_STRINGS | null {
  const [, setLoaded] = useState(strings !== null);
  useEffect(() => {
    if (!needed || strings) return undefined;
    let live = true;
    import('./warnings-strings').then((m) => { strings = m.WARNING_STRINGS; if (live) setLoaded(true); }, () => undefined);
    return () => { live = false; };
  }, [needed, read]);
  return needed ? strings : null;
}

/** The banner of the instance's warnings (nothing when there is none). `focusAfter`: where the focus goes on "Later". */
export function WarningsBanner({ focusAfter = 'main' }: { focusAfter?: string }): JSX.Element | null {
  const { list, error, reload } = useWarnings();
  // "Later"'s codes read from the session's storage only once there is a warning (a synchronous round trip to the
  // browser, kept out of the page's first render)
  const [kept, setHidden] = useState<string[] | null>(null);
  const hidden = kept ?? (list?.length ? hiddenCodes() : []);
  const later = (code: string) => {
    const next = [...new Set([...hidden, code])];
    try { sessionStorage.setItem(HIDDEN_KEY, JSON.stringify(next)); } catch { /* storage off: hidden until the page reloads */ }
    setHidden(next);
    // the focus was on the button that goes away: it moves to the page's content
    const target = document.querySelector<HTMLElement>(focusAfter);
    if (target && target.tabIndex < 0 && !target.hasAttribute('tabindex')) target.setAttribute('tabindex', '-1');
    target?.focus();
  };
  const failed = !!error && !list;
  const shown = (list ?? []).filter((w) => !hidden.includes(w.code));
  const loaded = useStrings(failed || shown.length > 0, list ?? error);
  return loaded ? <WarningsView shown={shown} error={failed ? error : null} reload={reload} later={later} strings={loaded} /> : null;
}
