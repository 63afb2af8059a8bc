/**
 * The banner of the instance's warnings (warnings.tsx reads them; this module, its strings and its icons are a chunk
 * loaded only when there is one to show, or a failure to say): each warning's title, what it means, the action its
 * `links.self` points to, and "Later". A web app cannot handle a warning itself (cozy-stack lets only an OAuth client
 * or the CLI sign the terms: PUT /settings/instance/sign_tos): new terms without a link (no `settings.tosLink`) say
 * what to do next instead (warnings-tos.tsx).
 */
import type { JSX } from 'preact';
import { Info, ScrollText } from 'lucide-preact';
import { useBoot } from './components';
import { describeError } from './errors';
import { withStrings } from './i18n';
import { TOS_STRINGS, TosWithoutLink } from './warnings-tos';

/** The strings of the banner, over the app's own (withStrings). */
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

export interface InstanceWarning { code: string; title: string; detail: string; links?: { self?: string } }

const KNOWN = new Set(['tos-updated']);

export interface WarningsViewProps {
  /** the warnings to show (those not put off with "Later") */
  shown: InstanceWarning[];
  /** why the list could not be read (shown when there is no list) */
  error: unknown;
  reload(): void;
  later(code: string): void;
}

/** The failure to read the warnings, or the warnings shown. */
export function WarningsView({ shown, error, reload, later }: WarningsViewProps): JSX.Element | null {
  const boot = useBoot();
  const t = withStrings(boot.t, WARNING_STRINGS[boot.locale], WARNING_STRINGS.en);
  if (error) {
    const d = describeError(error, t);
    return (
      <div class="warnings-failed alert" role="alert">
        <div class="grow-text"><strong>{t('warnings.failed')}</strong> {d.message} {d.action}</div>
        <button type="button" onClick={reload}>{t('common.retry')}</button>
      </div>
    );
  }
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
            {w.code === 'tos-updated' && !w.links?.self ? <TosWithoutLink id={id} later={laterButton} t={t} /> : (
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
