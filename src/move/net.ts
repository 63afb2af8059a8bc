/**
 * The addresses a move or an import may reach (every address in a link or a form is hostile: SSRF). Names are resolved
 * at connection time by the socket's own lookup, so a name cannot resolve to a public address when checked and to a
 * private one when connected. Public unicast addresses only, unless the operator allows private ones
 * (`imports.allowPrivateUrls`: tests, private networks). `localhost` and the names under `.localhost` are the loopback
 * address (RFC 6761 §6.3, as browsers resolve them), so they are private.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

export function isPublicAddress(address: string): boolean {
  try {
    let ip = ipaddr.parse(address);
    if (ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress()) ip = (ip as ipaddr.IPv6).toIPv4Address();
    return ip.range() === 'unicast';
  } catch {
    return false;
  }
}

const isLocalhostName = (host: string): boolean => host === 'localhost' || host.endsWith('.localhost');

type Answer = (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void;

function answer(options: { all?: boolean }, callback: Parameters<LookupFunction>[2], addresses: LookupAddress[]): void {
  if (options.all) return (callback as unknown as Answer)(null, addresses);
  callback(null, addresses[0]!.address, addresses[0]!.family);
}

/** The lookup of the sockets that reach another server: public addresses only, unless `allowPrivate`. */
export function lookupFor(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    const host = hostname.toLowerCase().replace(/\.$/, '');
    if (isLocalhostName(host)) {
      if (!allowPrivate) return callback(Object.assign(new Error(`${hostname} is a loopback name (a private address): refused`), { code: 'EPRIVATE' }), '', 0);
      return answer(options, callback, [{ address: '127.0.0.1', family: 4 }]);
    }
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 0);
      const bad = allowPrivate ? undefined : addresses.find((a) => !isPublicAddress(a.address));
      if (bad || !addresses.length) return callback(Object.assign(new Error(`${hostname} resolves to a private address (${bad?.address ?? 'none'}): refused`), { code: 'EPRIVATE' }), '', 0);
      answer(options, callback, addresses);
    });
  };
}

/** An address literal is never looked up (Node skips `lookup`): the reason to refuse it, or null. */
export function refusedLiteral(hostname: string, allowPrivate: boolean): string | null {
  const literal = hostname.replace(/^\[|\]$/g, '');
  return !allowPrivate && isIP(literal) && !isPublicAddress(literal) ? `${literal} is a private address: refused` : null;
}
