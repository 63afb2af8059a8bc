/** A manifest's permissions as a list of sentences, each with the app's own reason when it gave one. */
import type { JSX } from 'preact';
import { ShieldCheck } from 'lucide-preact';
import { useBoot } from '../../shared/components';
import type { Perm } from './api';
import { permissionInWords } from './permissions';

export function PermissionList({ perms }: { perms: Perm[] }): JSX.Element {
  const { locale } = useBoot();
  return (
    <ul class="perms">
      {perms.map((p, i) => {
        const w = permissionInWords(p, locale);
        return (
          <li key={i}>
            <ShieldCheck size={20} aria-hidden="true" />
            <span><span class="perm-text">{w.text}</span>{w.why && <span class="muted small perm-why">{w.why}</span>}</span>
          </li>
        );
      })}
    </ul>
  );
}
