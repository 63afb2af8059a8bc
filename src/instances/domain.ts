import { BadRequest } from '../common/errors.js';

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Lower-cases a Host header value; keeps the port (cozy-stack routes on host:port). */
export function normalizeHost(host: string): string {
  return host.trim().toLowerCase().replace(/\.$/, '').replace(/:(80|443)$/, '');
}

/** Validates an instance domain such as "alice.example.org" or "hearth.localhost:8080". */
export function validateDomain(input: string): string {
  const domain = normalizeHost(String(input));
  const match = /^([^:]+)(?::(\d{1,5}))?$/.exec(domain);
  const name = match?.[1] ?? '';
  const port = match?.[2];
  const labels = name.split('.');
  const ok =
    match !== null &&
    name.length <= 253 &&
    (labels.length >= 2 || name === 'localhost') &&
    labels.every((l) => LABEL.test(l)) &&
    (port === undefined || (Number(port) >= 1 && Number(port) <= 65535));
  if (!ok) {
    throw new BadRequest(`"${input}" is not a valid instance domain: expected a host name such as alice.example.org, optionally with :port`);
  }
  return domain;
}
