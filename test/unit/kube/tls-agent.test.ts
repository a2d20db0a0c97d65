import * as https from 'node:https';
import { describe, expect, it } from 'vitest';
import { TlsAgent } from '../../../src/kube/transport.js';

// The transport's agent remembers the pool name of the last options it saw. Whatever it
// remembers, the name must be the one Node's own agent gives the same options: otherwise
// requests could share a connection made with other TLS material.

describe('TlsAgent', () => {
  it('names every pool as https.Agent does, through changes of server and TLS material', () => {
    const plain = new https.Agent();
    const ours = new TlsAgent();
    const ca = Buffer.from('-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----\n');
    const sequence: (https.AgentOptions & { host: string; port: number })[] = [
      { host: 'api', port: 6443, ca, cert: 'C1', key: 'K1' },
      { host: 'api', port: 6443, ca, cert: 'C1', key: 'K1' },
      // A rotated client certificate (the key stays): a new value, a new pool.
      { host: 'api', port: 6443, ca, cert: 'C2', key: 'K1' },
      // The same CA read again: another Buffer, the same pool.
      { host: 'api', port: 6443, ca: Buffer.from(ca), cert: 'C2', key: 'K1' },
      { host: 'api', port: 6443, ca, cert: 'C2', key: 'K1', servername: 'kubernetes' },
      { host: 'api', port: 6443, ca, cert: 'C2', key: 'K1', servername: 'kubernetes', rejectUnauthorized: false },
      { host: 'api', port: 6444, ca, cert: 'C2', key: 'K1', servername: 'kubernetes', rejectUnauthorized: false },
      { host: 'other', port: 6444, ca, cert: 'C2', key: 'K1', servername: 'kubernetes', rejectUnauthorized: false, minVersion: 'TLSv1.3' },
      { host: 'api', port: 6443, ca, cert: 'C1', key: 'K1' },
    ];
    const names = sequence.map((o) => {
      const name = ours.getName(o);
      expect(name).toBe(plain.getName(o));
      return name;
    });
    expect(new Set(names).size).toBe(6);
  });
});
