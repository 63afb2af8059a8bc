/**
 * The instance's warnings (GET /settings/warnings: cozy-stack's answer is 404 when there is none, else the list as
 * JSON-API errors with the first one's status, 402 for terms of service to sign) as a banner at the top of the page:
 * its title, what it means, the action its `links.self` points to, and "Later". A web app cannot handle a warning
 * itself (cozy-stack lets only an OAuth client or the CLI sign the terms: PUT /settings/instance/sign_tos): new terms
 * without a link (no `settings.tosLink`) say what to do next instead (warnings-tos.tsx). "Later"
 * hides it in this tab's session only; the list is read again when the page comes back into view (the owner accepted
 * the terms in another tab), and a handled warning goes away.
 */
import './warnings.css';
import type { JSX } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { Info, ScrollText } from 'lucide-preact';
import { useBoot } from './components';
import { describeError } from './errors';
import { TOS_STRINGS, TosWithoutLink } from './warnings-tos';

export interface InstanceWarning { code: string; title: string; detail: string; links?: { self?: string } }

/** The strings of the banner, merged into the dictionaries of the apps that show it. */
export const WARNING_STRINGS = {
  en: {
    'warnings.label': 'Action required',
    'warnings.tos-updated.title': 'The terms of service have changed',
    'warnings.tos-updated.text': 'Read the new terms of service and accept them to keep using your Hearth.',
    'warnings.tos-updated.action': 'Read and accept the terms',
    'warnings.open': 'Take action', 'warnings.later': 'Later', 'warnings.laterLabel': 'Remind me later: %{title}',
    'warnings.failed': 'Hearth could not tell whether something needs your attention.',
    ...TOS_STRINGS.en,
  },
  fr: {
    'warnings.label': 'Action requise',
    'warnings.tos-updated.title': 'Les conditions d\u2019utilisation ont changé',
    'warnings.tos-updated.text': 'Lisez les nouvelles conditions générales d\u2019utilisation et acceptez-les pour continuer à utiliser votre Hearth.',
    'warnings.tos-updated.action': 'Lire et accepter les conditions',
    'warnings.open': 'Agir', 'warnings.later': 'Plus tard', 'warnings.laterLabel': 'Me le rappeler plus tard : %{title}',
    'warnings.failed': 'Hearth n\u2019a pas pu vérifier si quelque chose demande votre attention.',
    ...TOS_STRINGS.fr,
  },
};

const HIDDEN_KEY = 'hearth.warnings.later';
const KNOWN = new Set(['tos-updated']);

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
  const reload = useCallback(() => {
    client.getStackClient().fetchJSON('GET', '/settings/warnings').then(
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

/** The banner of the instance's warnings (nothing when there is none). `focusAfter`: where the focus goes on "Later". */
export function WarningsBanner({ focusAfter = 'main' }: { focusAfter?: string }): JSX.Element | null {
  const { t } = useBoot();
  const { list, error, reload } = useWarnings();
  const [hidden, setHidden] = useState<string[]>(hiddenCodes);
  const later = (code: string) => {
    const next = [...new Set([...hidden, code])];
    try { sessionStorage.setItem(HIDDEN_KEY, JSON.stringify(next)); } catch { /* storage off: hidden until the page reloads */ }
    setHidden(next);
    // the focus was on the button that goes away: it moves to the page's content
    const target = document.querySelector<HTMLElement>(focusAfter);
    if (target && target.tabIndex < 0 && !target.hasAttribute('tabindex')) target.setAttribute('tabindex', '-1');
    target?.focus();
  };
  if (error && !list) {
    const d = describeError(error, t);
    return (
      <div class="warnings-failed alert" role="alert">
        <div class="grow-text"><strong>{t('warnings.failed')}</strong> {d.message} {d.action}</div>
        <button type="button" onClick={reload}>{t('common.retry')}</button>
      </div>
    );
  }
  const shown = (list ?? []).filter((w) => !hidden.includes(w.code));
  if (shown.length === 0) return null;
  return (
    <section class="warnings" aria-label={t('warnings.label')}>
      {shown.map((w) => {
        const known = KNOWN.has(w.code);
        const title = known ? t(`warnings.${w.code}.title`) : w.title;
        const id = `warning-${w.code}`;
        const Icon = w.code === 'tos-updated' ? ScrollText : Info;
        const laterButton = <button type="button" aria-label={t('warnings.laterLabel', { title })} onClick={() => later(w.code)}>{t('warnings.later')}</button>;
        return (
          <div key={w.code} class="warning" role="group" aria-labelledby={`${id}-title`} data-code={w.code}>
            <Icon class="warning-icon" size={28} aria-hidden="true" />
            {w.code === 'tos-updated' && !w.links?.self ? <TosWithoutLink id={id} later={laterButton} /> : (
              <>
                <div class="warning-body">
                  <h2 id={`${id}-title`}>{title}</h2>
                  <p>{known ? t(`warnings.${w.code}.text`) : w.detail}</p>
                </div>
                <div class="warning-actions">
                  {w.links?.self && <a class="button primary" href={w.links.self}>{known ? t(`warnings.${w.code}.action`) : t('warnings.open')}</a>}
                  {laterButton}
                </div>
              </>
            )}
          </div>
        );
      })}
    </section>
  );
}
