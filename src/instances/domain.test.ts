import { describe, expect, it } from 'vitest';
import { normalizeHost, validateDomain } from './domain.js';

describe('instance domains', () => {
  it('accepts host names, localhost and IP addresses, each with an optional port', () => {
    for (const [input, domain] of [
      ['alice.example.org', 'alice.example.org'],
      ['Hearth.Localhost:8080', 'hearth.localhost:8080'],
      ['localhost', 'localhost'],
      ['localhost:8080', 'localhost:8080'],
      ['127.0.0.1:8080', '127.0.0.1:8080'],
      ['192.168.1.20', '192.168.1.20'],
      ['[::1]:8080', '[::1]:8080'],
      ['[0:0:0:0:0:0:0:1]:8080', '[::1]:8080'],
      ['[2001:DB8::1]', '[2001:db8::1]'],
      ['alice.example.org:80', 'alice.example.org'],
    ]) {
      expect(validateDomain(input as string), input).toBe(domain);
    }
  });

  it('refuses what is not a host', () => {
    for (const input of ['single', 'no_underscore.org', 'x..org', 'a.org:port', 'a.org:0', 'a.org:70000', '999.1.1.1', '1.2.3', '::1', '[::1', '[::g]:8080', '[127.0.0.1]', 'localhost:']) {
      expect(() => validateDomain(input), input).toThrow(/not a valid instance domain/);
    }
  });

  it('normalizes a Host header as the domains are stored', () => {
    expect(normalizeHost('[0:0::1]:8080')).toBe('[::1]:8080');
    expect(normalizeHost('LOCALHOST:8080')).toBe('localhost:8080');
    expect(normalizeHost('example.org.')).toBe('example.org');
  });
});
