/**
 * Draws the built-in apps' icons (webapps/<slug>/icon.svg): a lucide glyph (the apps' one icon set, ISC licence) in
 * white on a rounded square of the app's colour. Run by hand when an icon changes: `node scripts/webapp-icons.mjs`.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ICONS = { home: ['house', '#1d4ed8', '#3b82f6'], drive: ['folder', '#0f766e', '#14b8a6'], settings: ['settings', '#334155', '#64748b'], store: ['shopping-bag', '#6d28d9', '#a78bfa'], accounts: ['plug', '#c2410c', '#fb923c'] };
const root = fileURLToPath(new URL('..', import.meta.url));
const attrs = (o) => Object.entries(o).filter(([k]) => k !== 'key').map(([k, v]) => `${k}="${String(v).replace(/"/g, '&quot;')}"`).join(' ');

for (const [slug, [glyph, dark, light]] of Object.entries(ICONS)) {
  // the icon modules are not in the package's exports: imported by path
  const { __iconData } = await import(pathToFileURL(`${root}node_modules/lucide-preact/dist/esm/icons/${glyph}.mjs`).href);
  const shapes = __iconData.node.map(([tag, a]) => `<${tag} ${attrs(a)}/>`).join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><!-- glyph: lucide "${glyph}" (ISC licence) -->
<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="${light}"/><stop offset="1" stop-color="${dark}"/></linearGradient></defs>
<rect width="64" height="64" rx="15" fill="url(#g)"/>
<g transform="translate(14 14) scale(1.5)" fill="none" stroke="#fff" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round">${shapes}</g>
</svg>
`;
  writeFileSync(`${root}webapps/${slug}/icon.svg`, svg);
}
