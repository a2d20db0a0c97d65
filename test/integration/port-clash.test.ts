import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startControlPlane } from '../../src/cluster/controlplane.js';
import { freePorts } from '../../src/cluster/ports.js';

const held: Server[] = [];

function holdPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      held.push(server);
      resolve((server.address() as { port: number }).port);
    });
  });
}

afterAll(() => {
  for (const s of held) s.close();
});

describe('a port taken between choosing and binding', () => {
  it('is detected and the start retried on other ports', async () => {
    const taken = await holdPort();
    let calls = 0;
    const messages: string[] = [];
    const cp = await startControlPlane({
      name: 'port-clash',
      stateDir: mkdtempSync(join(tmpdir(), 'cnp-operator-port-clash-')),
      controllerManager: false,
      progress: (m) => messages.push(m),
      // As if another process won the race: first etcd's client port is taken, then the API server's.
      choosePorts: async () => {
        const free = await freePorts(3);
        if (calls === 0) free[0] = taken;
        if (calls === 1) free[2] = taken;
        calls++;
        return free;
      },
    });
    try {
      expect(calls).toBe(3);
      expect(messages.filter((m) => m.includes('retrying with other ports'))).toHaveLength(2);
      expect(readFileSync(join(cp.stateDir, 'logs', 'etcd.log'), 'utf8')).toMatch(/address already in use/);
      expect(readFileSync(join(cp.stateDir, 'logs', 'kube-apiserver.log'), 'utf8')).toMatch(/address already in use/);
      expect(cp.server).not.toContain(`:${taken}`);
    } finally {
      await cp.stop();
    }
  }, 120_000);
});
