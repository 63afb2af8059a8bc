/**
 * The banner of the instance's warnings (warnings.tsx reads them and loads the banner's strings when there is one to
 * show, or a failure to say): each warning's title, what it means, the action its `links.self` points to, and "Later". A web app cannot handle a warning itself (cozy-stack lets only an OAuth client
 * or the CLI sign the terms: PUT /settings/instance/sign_tos): new terms without a link (no `settings.tosLink`) say
 * what to do next instead (warnings-tos.tsx).
 */
import type { JSX } from 'preact';
import { Info, ScrollText } from 'lucide-preact';
import { useBoot } from './components';
import { describeError } from './errors';
import { withStrings } from './i18n';
import type { WARNING_STRINGS } from './warnings-strings';
import { TosWithoutLink } from './warnings-tos';

export interface InstanceWarning { code: string; title: string; detail: string; links?: { self?: string } }

const KNOWN = new Set(['tos-updated']);

export interface WarningsViewProps {
  /** the warnings to show (those not put off with "Later") */
  shown: InstanceWarning[];
  /** why the list could not be read (shown when there is no list) */
  error: unknown;
  reload(): void;
  later(code: string): void;
  /** the banner's strings (warnings-strings.ts, loaded with the first warning) */
  strings: typeof WARNING_STRINGS;
}

/** The failure to read the warnings, or the warnings shown. */
export function WarningsView({ shown, error, reload, later, strings }: WarningsViewProps): JSX.Element | null {
  const boot = useBoot();
  const t = withStrings(boot.t, strings[boot.locale], strings.en);
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
