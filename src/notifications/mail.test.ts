/** The notification mail: one-line subjects, everything escaped in the HTML part, the sender named. */
import { describe, expect, it } from 'vitest';
import { mailSubject, renderNotificationMail } from './mail.js';
import type { NotificationDoc } from './types.js';

const doc = (over: Partial<NotificationDoc> = {}): NotificationDoc => ({
  _id: 'n1', source_id: 'cozy/app/bank/report/', originator: 'app', slug: 'bank', category: 'report', created_at: '', last_sent: '', title: 'Report', priority: 'normal', ...over,
});
const instance = { domain: 'alice.example.org', publicName: 'Alice', locale: 'fr' };

describe('notification mail', () => {
  it('keeps the subject on one line (no header injection), trims it and never leaves it empty', () => {
    expect(mailSubject('Hello\r\nBcc: eve@example.net')).toBe('Hello Bcc: eve@example.net');
    expect(mailSubject('a\u0000b\u2028c\td')).toBe('a b c d');
    expect(mailSubject('x'.repeat(300))).toHaveLength(200);
    expect(mailSubject(' \n ')).toBe('Notification');
  });

  it('escapes the title, the message, the content, the names and the locale; never puts content_html in', () => {
    const m = renderNotificationMail({ ...instance, publicName: '"><img src=x onerror=alert(1)>', locale: 'en"><script>' }, 'https://alice.example.org', doc({
      title: '<script>alert("t")</script>', message: "it's <b>bold</b>\nline 2", content: '<iframe src="x">', content_html: '<img src=x onerror=alert(2)>', slug: 'bank<i>',
    }));
    expect(m.mode).toBe('noreply');
    expect(m.subject).toBe('<script>alert("t")</script>');
    const [text, html] = m.parts;
    expect(text!.type).toBe('text/plain');
    expect(text!.body).toContain("it's <b>bold</b>\nline 2");
    expect(html!.type).toBe('text/html');
    for (const raw of ['<script', '<b>', '<iframe', '<img', 'onerror=alert(2)', '<i>']) expect(html!.body).not.toContain(raw);
    expect(html!.body).toContain('&lt;script&gt;alert(&quot;t&quot;)&lt;/script&gt;');
    expect(html!.body).toContain('it&#39;s &lt;b&gt;bold&lt;/b&gt;<br>line 2');
    expect(html!.body).toContain('&lt;iframe src=&quot;x&quot;&gt;');
    expect(html!.body).toContain('lang="en&quot;&gt;&lt;script&gt;"');
    expect(html!.body).toContain('Sent by the app bank&lt;i&gt; from <a href="https://alice.example.org"');
  });

  it('names a konnector, and the Hearth itself for system notifications; falls back to the domain without a public name', () => {
    const k = renderNotificationMail(instance, 'https://alice.example.org', doc({ originator: 'konnector', slug: 'ameli' }));
    expect(k.parts[0]!.body).toContain("Sent by the connector ameli from Alice's Hearth: https://alice.example.org");
    const stack = doc({ originator: 'stack' });
    delete stack.slug;
    const s = renderNotificationMail({ ...instance, publicName: null }, 'https://alice.example.org', stack);
    expect(s.parts[0]!.body).toContain("Sent by your Hearth from alice.example.org's Hearth");
  });
});
