/**
 * XML for WebDAV. Request bodies: checked well-formed by fast-xml-parser's validator, parsed in
 * document order, then namespaces are resolved here (fast-xml-parser keeps prefixes as written):
 * an undeclared prefix or `xmlns:p=""` is a 400, as XML Namespaces 1.0 says. Entities are decoded
 * strictly (the five of XML and character references; no DTD, so no other entity exists).
 * Answers: `D:`-prefixed DAV elements, every text and attribute escaped, and property values
 * written back self-contained (each element declares its own namespace).
 */
import { STATUS_CODES } from 'node:http';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { BadRequest } from '../../common/errors.js';

export const DAV = 'DAV:';
const XML_NS = 'http://www.w3.org/XML/1998/namespace';

export interface XmlAttr {
  ns: string;
  name: string;
  value: string;
}
export interface XmlElement {
  ns: string;
  name: string;
  attrs: XmlAttr[];
  children: XmlNode[];
}
export type XmlNode = XmlElement | string;

type RawNode = Record<string, unknown> & { ':@'?: Record<string, string> };

const parser = new XMLParser({
  preserveOrder: true, ignoreAttributes: false, attributeNamePrefix: '', parseTagValue: false, parseAttributeValue: false,
  trimValues: false, processEntities: false, ignoreDeclaration: true, ignorePiTags: true, cdataPropName: '#cdata',
});

const PREDEFINED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** A character XML 1.0 allows. */
const xmlChar = (c: number) => c === 0x9 || c === 0xa || c === 0xd || (c >= 0x20 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd) || (c >= 0x10000 && c <= 0x10ffff);

function decode(raw: string): string {
  return raw.replace(/&([^;&\s<]*)(;?)/g, (_m, ref: string, semi: string) => {
    if (!semi) throw new BadRequest('the XML body has a "&" that starts no entity (write &amp;)');
    if (ref in PREDEFINED) return PREDEFINED[ref]!;
    const code = /^#x[0-9a-f]{1,6}$/i.test(ref) ? parseInt(ref.slice(2), 16) : /^#[0-9]{1,7}$/.test(ref) ? parseInt(ref.slice(1), 10) : NaN;
    if (Number.isNaN(code)) throw new BadRequest(`the XML body uses the undefined entity &${ref.slice(0, 40)};`);
    if (!xmlChar(code)) throw new BadRequest(`the character reference &${ref}; is not an XML character`);
    return String.fromCodePoint(code);
  });
}

function qname(q: string, scope: Map<string, string>, element: boolean): [string, string] {
  const i = q.indexOf(':');
  if (i < 0) return [element ? (scope.get('') ?? '') : '', q];
  const prefix = q.slice(0, i);
  const local = q.slice(i + 1);
  const ns = scope.get(prefix);
  if (ns === undefined) throw new BadRequest(`the XML prefix "${prefix.slice(0, 40)}" is not declared`);
  if (!local || local.includes(':')) throw new BadRequest(`"${q.slice(0, 80)}" is not a valid qualified name`);
  return [ns, local];
}

function tagOf(raw: RawNode): string {
  const tag = Object.keys(raw).find((k) => k !== ':@');
  if (tag === undefined) throw new BadRequest('the XML body could not be read');
  return tag;
}

/** Deeper bodies are refused (resolve and serialize recurse). */
export const MAX_DEPTH = 64;

function resolve(raw: RawNode, outer: Map<string, string>, depth = 0): XmlNode | null {
  if (depth > MAX_DEPTH) throw new BadRequest(`the XML body is nested deeper than ${MAX_DEPTH} elements`);
  const tag = tagOf(raw);
  if (tag === '#text') return decode(String(raw[tag]));
  if (tag === '#cdata') return (raw[tag] as RawNode[]).map((t) => String(t['#text'] ?? '')).join('');
  const scope = new Map(outer);
  const rawAttrs = Object.entries(raw[':@'] ?? {});
  for (const [k, v] of rawAttrs) {
    if (k === 'xmlns') scope.set('', decode(v));
    else if (k.startsWith('xmlns:')) {
      const prefix = k.slice(6);
      const value = decode(v);
      if (value === '') throw new BadRequest(`xmlns:${prefix.slice(0, 40)}="" is not allowed: a prefix cannot be undeclared (XML Namespaces 1.0)`);
      if (prefix === 'xmlns' || (prefix === 'xml') !== (value === XML_NS)) throw new BadRequest(`the prefix "${prefix.slice(0, 40)}" cannot be bound to ${value.slice(0, 80)}`);
      scope.set(prefix, value);
    }
  }
  const [ns, name] = qname(tag, scope, true);
  const attrs = rawAttrs
    .filter(([k]) => k !== 'xmlns' && !k.startsWith('xmlns:'))
    .map(([k, v]) => {
      const [ans, aname] = qname(k, scope, false);
      return { ns: ans, name: aname, value: decode(v) };
    });
  const children = ((raw[tag] as RawNode[] | undefined) ?? []).map((c) => resolve(c, scope, depth + 1)).filter((c): c is XmlNode => c !== null);
  return { ns, name, attrs, children };
}

/** Parses a request body into its root element, namespaces resolved; 400 when it is not well-formed. */
export function parseXml(text: string): XmlElement {
  if (/<!DOCTYPE/i.test(text)) throw new BadRequest('document type declarations are not accepted in WebDAV bodies');
  const valid = XMLValidator.validate(text);
  if (valid !== true) throw new BadRequest(`the XML body is not well-formed: ${valid.err.msg} (line ${valid.err.line}, column ${valid.err.col})`);
  let raw: RawNode[];
  try {
    raw = parser.parse(text) as RawNode[];
  } catch (err) {
    throw new BadRequest(`the XML body could not be read: ${(err as Error).message.slice(0, 200)}`);
  }
  const top = raw.map((n) => resolve(n, new Map([['xml', XML_NS]])));
  const roots = top.filter((n): n is XmlElement => typeof n === 'object' && n !== null);
  if (roots.length !== 1 || top.some((n) => typeof n === 'string' && n.trim() !== '')) throw new BadRequest('the XML body must have exactly one root element');
  return roots[0]!;
}

/** The child elements of `e` (text between them ignored). */
export const elements = (e: XmlElement): XmlElement[] => e.children.filter((c): c is XmlElement => typeof c !== 'string');
export const isDav = (e: XmlElement, name: string): boolean => e.ns === DAV && e.name === name;
export const textOf = (e: XmlElement): string => e.children.map((c) => (typeof c === 'string' ? c : textOf(c))).join('');

// eslint-disable-next-line no-control-regex
const NOT_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Escapes text or an attribute value; characters XML cannot carry at all become U+FFFD. */
export function esc(s: string): string {
  return s.replace(NOT_XML, '\uFFFD').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** A DAV: element (`inner` is already XML). */
export const dav = (name: string, inner = ''): string => (inner === '' ? `<D:${name}/>` : `<D:${name}>${inner}</D:${name}>`);

/** An element of any namespace, declaring it on itself; DAV: ones use the D: prefix of the answer's root. */
export function element(ns: string, name: string, inner = ''): string {
  if (ns === DAV) return dav(name, inner);
  const open = ns === '' ? `${name} xmlns=""` : `P:${name} xmlns:P="${esc(ns)}"`;
  const close = ns === '' ? name : `P:${name}`;
  return inner === '' ? `<${open}/>` : `<${open}>${inner}</${close}>`;
}

/** Writes nodes back as XML that does not depend on where it is put (a dead property's value). */
export function serialize(nodes: XmlNode[]): string {
  return nodes
    .map((n) => {
      if (typeof n === 'string') return esc(n);
      const attrs = n.attrs.map((a, i) => {
        if (a.ns === '') return ` ${a.name}="${esc(a.value)}"`;
        if (a.ns === XML_NS) return ` xml:${a.name}="${esc(a.value)}"`;
        return ` xmlns:a${i}="${esc(a.ns)}" a${i}:${a.name}="${esc(a.value)}"`;
      });
      const open = `${n.name} xmlns="${esc(n.ns)}"${attrs.join('')}`;
      return n.children.length ? `<${open}>${serialize(n.children)}</${n.name}>` : `<${open}/>`;
    })
    .join('');
}

export const XML_DECL = '<?xml version="1.0" encoding="utf-8"?>\n';
export const XML_TYPE = 'application/xml; charset=utf-8';

export const statusLine = (code: number): string => `HTTP/1.1 ${code} ${STATUS_CODES[code] ?? ''}`;

/** One `<D:response>` of a multistatus: a status for the href, or propstats grouped by status. */
export function response(href: string, body: { status: number } | { propstats: Array<{ status: number; props: string[] }> }, description?: string): string {
  const inner = 'status' in body
    ? dav('status', statusLine(body.status))
    : body.propstats.filter((p) => p.props.length).map((p) => dav('propstat', dav('prop', p.props.join('')) + dav('status', statusLine(p.status)))).join('');
  return dav('response', dav('href', esc(href)) + inner + (description ? dav('responsedescription', esc(description)) : ''));
}

export const multistatus = (responses: string[]): string => `${XML_DECL}<D:multistatus xmlns:D="DAV:">${responses.join('')}</D:multistatus>`;

/** A `<D:error>` body: the RFC 4918 precondition (already XML) and a human-readable reason. */
export const errorBody = (condition: string | undefined, reason: string): string =>
  `${XML_DECL}<D:error xmlns:D="DAV:">${condition ?? ''}<H:reason xmlns:H="urn:hearth:dav">${esc(reason)}</H:reason></D:error>`;
