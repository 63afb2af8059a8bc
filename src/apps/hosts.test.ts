import { describe, expect, it } from 'vitest';
import { appOrigin, cookieDomain, splitAppHost } from './hosts.js';

describe('app hosts', () => {
  it('reads nested hosts', () => {
    expect(splitAppHost('drive.alice.example.org', 'nested')).toEqual({ instanceHost: 'alice.example.org', slug: 'drive' });
    expect(splitAppHost('drive.hearth.localhost:8080', 'nested')).toEqual({ instanceHost: 'hearth.localhost:8080', slug: 'drive' });
    expect(splitAppHost('localhost:8080', 'nested')).toBeNull();
    expect(splitAppHost('Dr_ive.alice.example.org', 'nested')).toBeNull();
  });
  it('reads flat hosts', () => {
    expect(splitAppHost('alice-drive.mycozy.cloud', 'flat')).toEqual({ instanceHost: 'alice.mycozy.cloud', slug: 'drive' });
    expect(splitAppHost('alice-my-app.mycozy.cloud', 'flat')).toEqual({ instanceHost: 'alice.mycozy.cloud', slug: 'my-app' });
    expect(splitAppHost('alice.mycozy.cloud', 'flat')).toBeNull();
    expect(splitAppHost('alice-.mycozy.cloud', 'flat')).toBeNull();
  });
  it('builds app origins and the shared cookie domain', () => {
    expect(appOrigin('alice.example.org', 'drive', 'nested', 'https')).toBe('https://drive.alice.example.org');
    expect(appOrigin('alice.mycozy.cloud', 'drive', 'flat', 'https')).toBe('https://alice-drive.mycozy.cloud');
    expect(appOrigin('hearth.localhost:8080', 'home', 'nested', 'http')).toBe('http://home.hearth.localhost:8080');
    expect(cookieDomain('alice.example.org:8443', 'nested')).toBe('alice.example.org');
    expect(cookieDomain('alice.mycozy.cloud', 'flat')).toBe('mycozy.cloud');
  });
});
