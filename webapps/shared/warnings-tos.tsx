/**
 * The new terms of service when Hearth has no page for them (`settings.tosLink` unset: the warning has no `links.self`).
 * A web app cannot sign them in place: cozy-stack lets only an OAuth client (the flagship app, which shows the manager's
 * terms) or the CLI call PUT /settings/instance/sign_tos, and here there is no text to read and accept. So the banner
 * says what to do next: the date the terms apply from (the date part of `tos_latest`, GET /settings/instance), who to
 * ask (the person who runs the Hearth; the context's `help_link` when one is configured, as the action), and, for an
 * owner who runs the Hearth themselves, the command that records the acceptance.
 */
import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { useBoot } from './components';
import { formatDate, type T } from './i18n';

/** `A.B.C-YYYYMMDD` (cozy-stack's TOS version) → its date as ISO, or undefined. */
export function tosDateOf(version: string | undefined): string | undefined {
  const m = /-(\d{4})(\d{2})(\d{2})$/.exec(version ?? '');
  return m ? `${m[1]}-${m[2]}-${m[3]}T12:00:00Z` : undefined;
}

interface Known { latest?: string; helpLink?: string }

/** The latest terms' version and the help link, read once (a failure leaves them out: the text still says what to do). */
function useTosContext(): Known {
  const { client } = useBoot();
  const [known, setKnown] = useState<Known>({});
  useEffect(() => {
    const stack = client.getStackClient();
    const attrs = (p: Promise<unknown>): Promise<Record<string, unknown>> => p.then((r) => (r as { data?: { attributes?: Record<string, unknown> } }).data?.attributes ?? {}, () => ({}));
    void Promise.all([attrs(stack.fetchJSON('GET', '/settings/instance')), attrs(stack.fetchJSON('GET', '/settings/context'))]).then(([instance, context]) => {
      const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
      const helpLink = str(context.help_link);
      setKnown({ latest: str(instance.tos_latest), helpLink: helpLink && /^https?:\/\//.test(helpLink) ? helpLink : undefined });
    });
  }, [client]);
  return known;
}

/** The text of the banner's body, and its actions (the help link, when there is one) placed before "Later". */
export function TosWithoutLink({ id, later, t }: { id: string; later: JSX.Element; t: T }): JSX.Element {
  const { locale, data } = useBoot();
  const { latest, helpLink } = useTosContext();
  const date = formatDate(tosDateOf(latest), locale);
  const command = `hearth instances modify ${data.domain} --tos ${latest ?? '<version>'}`;
  return (
    <>
      <div class="warning-body">
        <h2 id={`${id}-title`}>{t('warnings.tos-updated.title')}</h2>
        <p>{date ? t('warnings.tos-updated.noLink', { date }) : t('warnings.tos-updated.noLinkNoDate')}</p>
        <details class="warning-more">
          <summary>{t('warnings.tos-updated.selfHosted')}</summary>
          <p>{t('warnings.tos-updated.command', { version: latest ?? '' })}</p>
          <code>{command}</code>
        </details>
      </div>
      <div class="warning-actions">
        {helpLink && <a class="button primary" href={helpLink} rel="noopener" target="_blank">{t('warnings.tos-updated.help')}</a>}
        {later}
      </div>
    </>
  );
}
