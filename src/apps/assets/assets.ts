/**
 * The stack's assets (cozy-stack's `assets/`): what `{{.CozyBar}}`, `{{.CozyClientJS}}`, `{{.CozyFonts}}`, `{{.ThemeCSS}}`,
 * `{{.Favicon}}` and `{{.DefaultWallpaper}}` point at. cozy-bar and cozy-client-js come from their npm packages, pinned
 * and sha256-checked (externals.json; a mismatch refuses to serve them), the Lato fonts from @fontsource/lato, the icons
 * from auth/favicon.ts. Each file also has a content-hashed name (`cozy-bar.min.<hash>.js`), cached as immutable.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import PINNED from './externals.json' with { type: 'json' };
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { loadSharp } from '../../common/lazy-libs.js';
import { FAVICON_SVG, faviconIco } from '../../auth/favicon.js';

export interface Asset {
  body: Buffer;
  type: string;
  etag: string;
  /** Served under a content-hashed name: immutable. */
  immutable: boolean;
}

interface External { asset: string; package: string; version: string; path: string; sha256: string }

const require = createRequire(import.meta.url);

const TYPES: Record<string, string> = {
  js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8', woff2: 'font/woff2', woff: 'font/woff', svg: 'image/svg+xml',
  webmanifest: 'application/manifest+json', txt: 'text/plain; charset=utf-8', ico: 'image/x-icon', png: 'image/png', jpg: 'image/jpeg',
};
const typeOf = (name: string) => TYPES[name.slice(name.lastIndexOf('.') + 1)] ?? 'application/octet-stream';
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
/** `js/cozy-bar.min.js` → `js/cozy-bar.min.<16 hex>.js`: the id the serving rule of §2 step 9 recognises. */
const hashedName = (name: string, hash: string) => name.replace(/(\.[a-z0-9]+)$/, `.${hash.slice(0, 16)}$1`);

const FONT_FILES = ['latin-400-normal', 'latin-400-italic', 'latin-700-normal', 'latin-ext-400-normal', 'latin-ext-700-normal'];

function packageDir(name: string): string {
  return dirname(require.resolve(`${name}/package.json`));
}

/** The pinned list: externals.json, imported (not read beside the module, which the bundled CLI is not). */
export type PinnedExternals = { files: External[] };

function externals({ files }: PinnedExternals): Array<[string, Buffer]> {
  return files.map((f) => {
    const dir = packageDir(f.package);
    const version = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
    const body = readFileSync(join(dir, f.path));
    if (version !== f.version || sha(body) !== f.sha256) throw new Error(`stack asset ${f.asset}: ${f.package}@${version} ${f.path} is not the pinned ${f.version} with sha256 ${f.sha256}: run npm install`);
    return [f.asset, body];
  });
}

/** fonts/fonts.css and the Lato files it names (their hashed names). */
function fonts(add: (name: string, body: Buffer) => string): void {
  const dir = join(packageDir('@fontsource/lato'), 'files');
  let css = '';
  for (const f of FONT_FILES) {
    const [subset, weight, style] = [f.startsWith('latin-ext') ? 'latin-ext' : 'latin', f.split('-').at(-2), f.split('-').at(-1)];
    const woff2 = add(`fonts/lato-${f}.woff2`, readFileSync(join(dir, `lato-${f}.woff2`))).slice('fonts/'.length);
    const woff = add(`fonts/lato-${f}.woff`, readFileSync(join(dir, `lato-${f}.woff`))).slice('fonts/'.length);
    css += `/* lato ${subset} ${weight} ${style} */\n@font-face{font-family:'Lato';font-style:${style};font-display:swap;font-weight:${weight};src:url(${woff2}) format('woff2'),url(${woff}) format('woff')}\n`;
  }
  add('fonts/fonts.css', Buffer.from(css));
}

export class StackAssets {
  private readonly files = new Map<string, Asset>();
  private readonly hashed = new Map<string, string>();
  private readonly built = new Map<string, Promise<Buffer>>();

  private loaded = false;

  /**
   * `pinned`: the pinned list (externals.json; tests give another). The files are read and checked on first use, not at
   * start-up (about 15 ms of CPU and 5 MB that a server serving no app page would carry); `npm run build` checks them too.
   */
  constructor(private readonly pinned: PinnedExternals = PINNED) {}

  private load(): void {
    if (this.loaded) return;
    const add = (name: string, body: Buffer): string => {
      const hash = sha(body);
      const etag = `"${hash.slice(0, 32)}"`;
      const h = hashedName(name, hash);
      this.files.set(name, { body, type: typeOf(name), etag, immutable: false });
      this.files.set(h, { body, type: typeOf(name), etag, immutable: true });
      this.hashed.set(name, h);
      return h;
    };
    for (const [name, body] of externals(this.pinned)) add(name, body);
    fonts(add);
    add('icon.svg', Buffer.from(FAVICON_SVG));
    add('manifest.webmanifest', Buffer.from(JSON.stringify({
      name: 'Hearth', short_name: 'Hearth', display: 'standalone', background_color: '#ffffff', theme_color: '#1d4ed8',
      icons: [{ src: this.hashed.get('icon.svg'), sizes: 'any', type: 'image/svg+xml' }, { src: 'apple-touch-icon.png', sizes: '180x180', type: 'image/png' }],
    })));
    add('robots.txt', Buffer.from('User-agent: *\nDisallow: /\n'));
    this.loaded = true;
  }

  /** A static asset by its served name (plain or hashed), or undefined. */
  get(name: string): Asset | undefined {
    this.load();
    return this.files.get(name);
  }

  /** The images drawn with sharp (the favicon, the touch icon, the wallpaper): built on first use, not at start-up. */
  async image(name: string): Promise<Asset | undefined> {
    const make = IMAGES[name];
    if (!make) return undefined;
    let p = this.built.get(name);
    if (!p) {
      p = make();
      this.built.set(name, p);
      p.catch(() => this.built.delete(name));
    }
    const body = await p;
    return { body, type: typeOf(name), etag: `"${sha(body).slice(0, 32)}"`, immutable: false };
  }

  /** `//<domain>/assets/<hashed name>` (protocol-relative, as cozy-stack writes them). */
  url(domain: string, name: string): string {
    this.load();
    return `//${domain}/assets/${this.hashed.get(name) ?? name}`;
  }
}

const IMAGES: Record<string, () => Promise<Buffer>> = {
  'favicon.ico': faviconIco,
  'apple-touch-icon.png': async () => (await loadSharp())(Buffer.from(FAVICON_SVG)).resize(180, 180).png().toBuffer(),
  'images/default-wallpaper.jpg': async () => {
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="1920" height="1080"><defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1">
<stop offset="0" stop-color="#1d4ed8"/><stop offset="1" stop-color="#f59e0b"/></linearGradient></defs><rect width="1920" height="1080" fill="url(#g)"/></svg>`;
    return (await loadSharp())(Buffer.from(svg)).jpeg({ quality: 80 }).toBuffer();
  },
};
