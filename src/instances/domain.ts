import { isIPv4, isIPv6 } from 'node:net';
import { BadRequest } from '../common/errors.js';

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const BRACKETED = /^\[([0-9a-f:.]+)\](?::(\d{1,5}))?$/;

/**
 * Lower-cases a Host header value; keeps the port (cozy-stack routes on host:port). A bracketed IPv6
 * address is written as URLs write it ([0:0:0:0:0:0:0:1] → [::1]), so that every spelling finds it.
 */
export function normalizeHost(host: string): string {
  const h = host.trim().toLowerCase().replace(/\.$/, '').replace(/:(80|443)$/, '');
  const v6 = BRACKETED.exec(h);
  if (!v6 || !isIPv6(v6[1] as string)) return h;
  return new URL(`http://[${v6[1]}]`).host + (v6[2] === undefined ? '' : `:${v6[2]}`);
}

const validPort = (port: string | undefined) => port === undefined || (Number(port) >= 1 && Number(port) <= 65535);

/** Whether `name` (no port) is a host name with a dot, `localhost`, or an IPv4 address (all-digit labels must be one). */
function validName(name: string): boolean {
  const labels = name.split('.');
  if (labels.every((l) => /^\d+$/.test(l))) return isIPv4(name);
  return name.length <= 253 && (labels.length >= 2 || name === 'localhost') && labels.every((l) => LABEL.test(l));
}

/**
 * Validates an instance domain: a host name such as "alice.example.org" or "hearth.localhost", `localhost`,
 * an IPv4 address or a bracketed IPv6 one ("[::1]"), each with an optional ":port".
 */
export function validateDomain(input: string): string {
  const domain = normalizeHost(String(input));
  const v6 = BRACKETED.exec(domain);
  const named = /^([^:[\]]+)(?::(\d{1,5}))?$/.exec(domain);
  const ok = v6 ? isIPv6(v6[1] as string) && validPort(v6[2]) : named !== null && validName(named[1] as string) && validPort(named[2]);
  if (!ok) {
    throw new BadRequest(
      `"${input}" is not a valid instance domain: expected a host name such as alice.example.org, localhost, or an IP address (IPv6 in brackets: [::1]), optionally with :port`,
    );
  }
  return domain;
}
