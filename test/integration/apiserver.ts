import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import type { ControlPlane } from '../../src/cluster/controlplane.js';
import { tryGet } from '../../src/cluster/http.js';
import { isAlive, spawnComponent, terminate, type ProcessRecord } from '../../src/cluster/processes.js';
import { waitFor } from '../harness/index.js';

// The kube-apiserver of a control plane a test started itself, restarted under the operator.

function cmdline(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((s) => s !== '');
}

export class ApiServerProcess {
  private current: ProcessRecord;

  constructor(private readonly cp: ControlPlane) {
    this.current = cp.processes.find((p) => p.name === 'kube-apiserver')!;
  }

  get pid(): number {
    return this.current.pid;
  }

  /** Stops the API server, runs `whileDown`, and starts it again with the same flags (plus `extra`). */
  async restart(whileDown: () => Promise<void> = async () => undefined, extra: string[] = []): Promise<void> {
    const [exe, ...args] = cmdline(this.current.pid);
    expect(await terminate([this.current])).toEqual([]);
    await whileDown();
    const next = spawnComponent({ name: 'kube-apiserver', exe: exe!, args: [...args.filter((a) => !extra.some((e) => a.startsWith(e.split('=')[0]!))), ...extra], log: this.current.log, detached: false });
    this.current = next;
    await waitFor(async () => isAlive(next) && (await tryGet(`${this.cp.server}/readyz`, { ca: readFileSync(this.cp.caFile), token: this.cp.token }))?.status === 200, { timeout: 60_000, message: 'the API server to come back' });
  }

  /** The restarted process is not in the control plane's records: stop it here. */
  async stop(): Promise<void> {
    await terminate([this.current]);
  }

  /** Arguments of another component of the control plane (e.g. etcd's client URL). */
  static args(pid: number): string[] {
    return cmdline(pid);
  }
}
