/**
 * An app's `index.html` as cozy-stack executes it: a Go `html/template` whose `{{.Name}}` actions are escaped by the
 * context they sit in (HTML text, attribute value, URL attribute, `<script>`, `<style>`).
 *
 * Written by hand because no npm library does this: the JS template engines (handlebars, mustache, eta…) escape every
 * hole the same way (HTML entities), which leaves a value inside `<script>` or an `href` exploitable, and none reads
 * Go's `{{.Name}}` syntax. Only what app indexes use is supported (the contract, §2): `{{.Name}}` (spaces allowed) and
 * `{{/* comments *\/}}`; any other action, an unclosed `{{`, or a hole where Go refuses one (a tag or attribute name)
 * is a parse error, and the caller serves the file raw. The template is parsed once per app version (see cache in serve.ts).
 */

/** Where a hole sits. `jsStr` is inside a JS string literal; `urlStart`/`urlRest` a URL attribute before/after its first character. */
export type HoleContext = 'text' | 'attr' | 'attrUnquoted' | 'js' | 'jsStr' | 'css' | 'urlStart' | 'urlRest' | 'urlQuery';

export interface Hole {
  name: string;
  ctx: HoleContext;
  /** Inside an attribute (JS in `on*`, URL in `href`…): the result is also HTML-escaped. */
  inAttr: boolean;
}

export type Part = string | Hole;

export class TemplateError extends Error {}

/** A value: a string or a boolean (`Tracking`); `html` marks trusted HTML inserted raw in text (Go's template.HTML). */
export type TemplateValue = string | boolean | { html: string };

const URL_ATTRS = new Set(['action', 'archive', 'background', 'cite', 'classid', 'codebase', 'data', 'formaction', 'href', 'icon', 'longdesc', 'manifest', 'poster', 'profile', 'src', 'usemap', 'xmlns']);

type AttrKind = 'plain' | 'js' | 'css' | 'url';

/** Go's attrType: `data-` and namespaces stripped; `on*` is JS, `style` CSS, the URL attributes and any name holding src/uri/url a URL. */
function attrKind(raw: string): AttrKind {
  let name = raw.toLowerCase();
  if (name.startsWith('data-')) name = name.slice(5);
  else if (name.includes(':')) name = name.slice(name.indexOf(':') + 1);
  if (name.startsWith('on')) return 'js';
  if (name === 'style') return 'css';
  if (URL_ATTRS.has(name) || name.includes('src') || name.includes('uri') || name.includes('url')) return 'url';
  return 'plain';
}

type State =
  | { s: 'text' }
  | { s: 'comment' }
  | { s: 'tag'; name: string; closing: boolean }
  | { s: 'attrName'; tag: string; attr: string }
  | { s: 'afterAttr'; tag: string; attr: string }
  | { s: 'beforeValue'; tag: string; attr: string }
  | { s: 'value'; tag: string; kind: AttrKind; quote: '"' | "'" | ''; seen: string }
  | { s: 'raw'; tag: 'script' | 'style' | 'textarea' | 'title'; js: 'code' | '"' | "'" | '`' | 'line' | 'block' };

/** The HTML state machine over literal text: advances `st` over `text`. */
function scan(st: State, text: string): State {
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    switch (st.s) {
      case 'text':
        if (text.startsWith('<!--', i)) { st = { s: 'comment' }; i += 4; continue; }
        if (c === '<' && /^<\/?[a-zA-Z]/.test(text.slice(i, i + 3))) {
          const closing = text[i + 1] === '/';
          const m = /^[a-zA-Z][^\s/>]*/.exec(text.slice(i + (closing ? 2 : 1)))!;
          st = { s: 'tag', name: m[0].toLowerCase(), closing };
          i += (closing ? 2 : 1) + m[0].length;
          continue;
        }
        break;
      case 'comment':
        if (text.startsWith('-->', i)) { st = { s: 'text' }; i += 3; continue; }
        break;
      case 'tag':
        if (c === '>') st = enterElement(st.name, st.closing);
        else if (!/[\s/]/.test(c)) { st = { s: 'attrName', tag: st.name, attr: c }; }
        break;
      case 'attrName':
        if (c === '=') st = { s: 'beforeValue', tag: st.tag, attr: st.attr };
        else if (c === '>') st = enterElement(st.tag, false);
        else if (/[\s/]/.test(c)) st = { s: 'afterAttr', tag: st.tag, attr: st.attr };
        else st.attr += c;
        break;
      case 'afterAttr':
        if (c === '=') st = { s: 'beforeValue', tag: st.tag, attr: st.attr };
        else if (c === '>') st = enterElement(st.tag, false);
        else if (!/[\s/]/.test(c)) st = { s: 'attrName', tag: st.tag, attr: c };
        break;
      case 'beforeValue':
        if (c === '"' || c === "'") st = { s: 'value', tag: st.tag, kind: attrKind(st.attr), quote: c, seen: '' };
        else if (c === '>') st = enterElement(st.tag, false);
        else if (!/\s/.test(c)) { st = { s: 'value', tag: st.tag, kind: attrKind(st.attr), quote: '', seen: '' }; continue; }
        break;
      case 'value':
        if ((st.quote && c === st.quote) || (!st.quote && /\s/.test(c))) st = { s: 'tag', name: st.tag, closing: false };
        else if (!st.quote && c === '>') st = enterElement(st.tag, false);
        else st.seen += c;
        break;
      case 'raw': {
        const end = `</${st.tag}`;
        // the HTML tokenizer ends the element at its end tag wherever it is, even inside a JS string
        if (text.slice(i, i + end.length).toLowerCase() === end) { st = { s: 'tag', name: st.tag, closing: true }; i += end.length; continue; }
        if (st.tag === 'script') st = { ...st, js: jsStep(st.js, c, text[i + 1]) };
        if (st.s === 'raw' && st.js === 'block' && c === '*' && text[i + 1] === '/') { st = { ...st, js: 'code' }; i += 2; continue; }
        break;
      }
    }
    i += 1;
  }
  return st;
}

function jsStep(js: 'code' | '"' | "'" | '`' | 'line' | 'block', c: string, next: string | undefined): typeof js {
  if (js === 'code') {
    if (c === '"' || c === "'" || c === '`') return c;
    if (c === '/' && next === '/') return 'line';
    if (c === '/' && next === '*') return 'block';
    return 'code';
  }
  if (js === 'line') return c === '\n' ? 'code' : 'line';
  if (js === 'block') return 'block';
  return c === js ? 'code' : js; // escapes are handled by the caller skipping nothing: a backslash-quote is rare in index files
}

function enterElement(tag: string, closing: boolean): State {
  if (!closing && (tag === 'script' || tag === 'style' || tag === 'textarea' || tag === 'title')) return { s: 'raw', tag, js: 'code' };
  return { s: 'text' };
}

function holeAt(st: State, name: string): Hole {
  switch (st.s) {
    case 'text': return { name, ctx: 'text', inAttr: false };
    case 'comment': return { name, ctx: 'text', inAttr: false }; // Go strips comments; the parser drops this hole (see parse)
    case 'beforeValue': // `<p a={{.X}}>`: the hole starts an unquoted value
      return holeAt({ s: 'value', tag: st.tag, kind: attrKind(st.attr), quote: '', seen: '' }, name);
    case 'value': {
      const inAttr = true;
      if (st.kind === 'js') return { name, ctx: 'js', inAttr };
      if (st.kind === 'css') return { name, ctx: 'css', inAttr };
      if (st.kind === 'url') return { name, ctx: st.seen === '' ? 'urlStart' : /[?#]/.test(st.seen) ? 'urlQuery' : 'urlRest', inAttr };
      return { name, ctx: st.quote ? 'attr' : 'attrUnquoted', inAttr: false };
    }
    case 'raw':
      if (st.tag === 'script') {
        if (st.js === 'code') return { name, ctx: 'js', inAttr: false };
        if (st.js === '"' || st.js === "'" || st.js === '`') return { name, ctx: 'jsStr', inAttr: false };
        throw new TemplateError(`{{.${name}}} inside a JS comment`);
      }
      if (st.tag === 'style') return { name, ctx: 'css', inAttr: false };
      return { name, ctx: 'text', inAttr: false };
    default:
      throw new TemplateError(`{{.${name}}} in a tag or attribute name`);
  }
}

const ACTION = /^\{\{-?\s*(?:\.([A-Za-z_][A-Za-z0-9_]*)|\/\*[\s\S]*?\*\/)\s*-?\}\}/;

/** Parses an index file: literal parts and escaped holes, or TemplateError. */
export function parseTemplate(source: string): Part[] {
  const parts: Part[] = [];
  let st: State = { s: 'text' };
  let at = 0;
  for (;;) {
    const open = source.indexOf('{{', at);
    const literal = source.slice(at, open < 0 ? source.length : open);
    st = scan(st, literal);
    if (literal) parts.push(literal);
    if (open < 0) break;
    const m = ACTION.exec(source.slice(open, open + 4096));
    if (!m) throw new TemplateError(`unsupported or unclosed action at offset ${open}`);
    if (m[1] && st.s !== 'comment') {
      parts.push(holeAt(st, m[1]));
      // what follows a hole in an attribute value is past the value's start
      if (st.s === 'beforeValue') st = { s: 'value', tag: st.tag, kind: attrKind(st.attr), quote: '', seen: '\u0001' };
      else if (st.s === 'value') st = { ...st, seen: `${st.seen}\u0001` };
    }
    at = open + m[0].length;
  }
  return parts;
}

const HTML_ENT: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&#34;', "'": '&#39;', '+': '&#43;', '\0': '\uFFFD' };
export const escapeHtml = (s: string): string => s.replace(/[&<>"'+\0]/g, (c) => HTML_ENT[c]!);
/** An unquoted attribute value also ends at spaces, `=` and backquotes: escape them (Go's htmlNospaceEscaper). */
const escapeUnquoted = (s: string): string => escapeHtml(s).replace(/[\s=`]/g, (c) => `&#${c.charCodeAt(0)};`);

const JS_HEX = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
/** A JS value: JSON, with what could end the script or the attribute written as \u escapes. */
function jsValue(v: string | boolean): string {
  if (typeof v === 'boolean') return String(v);
  return JSON.stringify(v).replace(/[<>&'\u2028\u2029]/g, JS_HEX);
}
const jsString = (s: string): string => s.replace(/[\\'"`<>&\n\r\u2028\u2029\0]/g, JS_HEX);
const cssEscape = (s: string): string => s.replace(/[^A-Za-z0-9 _.,%#-]/g, (c) => `\\${c.charCodeAt(0).toString(16)} `);
/** Go's urlFilter: a value starting a URL may not bring its own scheme other than http(s) or mailto. */
function urlFilter(s: string): string {
  const scheme = /^([^/?#:]*):/.exec(s);
  return scheme && !/^(https?|mailto)$/i.test(scheme[1]!) ? '#ZgotmplZ' : s;
}
/** Go's urlNormalizer: percent-encodes what may not appear in a URL, keeps the reserved characters. */
const urlNormalize = (s: string): string => s.replace(/[^A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]/gu, (c) => encodeURIComponent(c)).replace(/'/g, '%27');
/** A lone surrogate cannot be percent-encoded (URIError): it becomes U+FFFD, as a browser would read it. */
const wellFormed = (s: string): string => s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');

/** One hole's output for a value. */
export function escapeHole(hole: Hole, value: TemplateValue | undefined): string {
  if (value === undefined) return '';
  if (typeof value === 'object') {
    if (hole.ctx === 'text') return value.html;
    value = value.html;
  }
  const s = hole.ctx.startsWith('url') ? wellFormed(String(value)) : String(value);
  let out: string;
  switch (hole.ctx) {
    case 'text': case 'attr': return escapeHtml(s);
    case 'attrUnquoted': return escapeUnquoted(s);
    case 'js': out = jsValue(value); break;
    case 'jsStr': out = jsString(s); break;
    case 'css': out = cssEscape(s); break;
    case 'urlStart': out = urlNormalize(urlFilter(s)); break;
    case 'urlRest': out = urlNormalize(s); break;
    case 'urlQuery': out = encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`); break;
  }
  return hole.inAttr ? escapeHtml(out) : out;
}

/** Executes a parsed template; a name without a value renders empty, as Go's html/template does for a missing map key. */
export function renderTemplate(parts: readonly Part[], values: Readonly<Record<string, TemplateValue>>): string {
  let out = '';
  for (const p of parts) out += typeof p === 'string' ? p : escapeHole(p, values[p.name]);
  return out;
}

/**
 * cozy-stack puts `{{.Warnings}}` just before `</head>`; without a head, a head holding it before `<body>`; without either,
 * at the start.
 */
export function withWarnings(source: string): string {
  const head = /<\/head\s*>/i.exec(source);
  if (head) return `${source.slice(0, head.index)}{{.Warnings}}${source.slice(head.index)}`;
  const body = /<body[\s>]/i.exec(source);
  if (body) return `${source.slice(0, body.index)}<head>{{.Warnings}}</head>${source.slice(body.index)}`;
  return `{{.Warnings}}${source}`;
}
