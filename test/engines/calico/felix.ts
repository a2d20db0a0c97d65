import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import type { ProbeAgent } from './agent.js';
import { waitWhileAlive } from './alive.js';
import type { CalicoVersion } from './builds.js';
import { inNetns } from './exec.js';

// Felix, Calico's per-node agent, run as the lab node's calico-node would run it: Kubernetes
// datastore, its own node name, iptables (nft backend) or nftables data plane.

export type Dataplane = 'iptables' | 'nftables';
export const DATAPLANES: readonly Dataplane[] = ['iptables', 'nftables'];

export interface FelixOptions {
  readonly binary: string;
  readonly version: CalicoVersion;
  /** The node's network namespace. */
  readonly netns: string;
  readonly nodeName: string;
  readonly kubeconfig: string;
  readonly dataplane: Dataplane;
  /** For the nftables data plane: the folder with the nft to use (builds.ts nftablesBundle). */
  readonly nftDir?: string;
  readonly logFile: string;
}

const HEALTH = 'http://127.0.0.1:9099/readiness';

export class Felix {
  private exit: string | undefined;
  private tail = '';

  private constructor(
    readonly options: FelixOptions,
    private readonly child: ChildProcess,
    private readonly log: WriteStream,
  ) {
    const keep = (d: Buffer): void => {
      log.write(d);
      this.tail = (this.tail + d.toString('utf8')).slice(-6000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.on('exit', (code, signal) => (this.exit = `Felix exited (${code ?? signal})`));
  }

  static start(options: FelixOptions): Felix {
    const path = process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin';
    if (options.dataplane === 'nftables' && options.nftDir === undefined) throw new Error('the nftables data plane needs nftDir');
    const env: NodeJS.ProcessEnv = {
      // Felix finds nft on PATH; the bundled one comes first (see hack/nftables/fetch.sh).
      PATH: options.nftDir === undefined ? path : `${options.nftDir}:${path}`,
      DATASTORE_TYPE: 'kubernetes',
      FELIX_DATASTORETYPE: 'kubernetes',
      KUBECONFIG: options.kubeconfig,
      FELIX_FELIXHOSTNAME: options.nodeName,
      // Without cgo there is no BPF support; its start-up clean-up of BPF state would panic.
      // Read with os.Getenv, so the exact spelling matters (not a case-insensitive parameter).
      FELIX_DebugSkipCTLBCleanup: 'true',
      FELIX_BPFENABLED: 'false',
      FELIX_XDPENABLED: 'false',
      FELIX_IPV6SUPPORT: 'false',
      FELIX_IPTABLESBACKEND: 'NFT',
      FELIX_NFTABLESMODE: options.dataplane === 'nftables' ? 'Enabled' : 'Disabled',
      FELIX_USAGEREPORTINGENABLED: 'false',
      FELIX_HEALTHENABLED: 'true',
      FELIX_HEALTHHOST: '127.0.0.1',
      FELIX_HEALTHPORT: '9099',
      FELIX_LOGFILEPATH: 'none',
      FELIX_LOGSEVERITYSYS: 'none',
      FELIX_LOGSEVERITYSCREEN: 'info',
      // Its default, /var/run/calico, is a system path; /var/lib is private to Felix (below).
      FELIX_ENDPOINTSTATUSPATHPREFIX: '/var/lib/calico',
    };
    // `ip netns exec` gives Felix its own mount namespace; a tmpfs over /var/lib there keeps the
    // files Felix writes (e.g. /var/lib/calico/mtu) out of the machine's /var/lib.
    const script = 'mount -t tmpfs cnp-lab /var/lib && mkdir -p /var/lib/calico && exec "$0"';
    const child = spawn('ip', ['netns', 'exec', options.netns, 'sh', '-c', script, options.binary], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    return new Felix(options, child, createWriteStream(options.logFile, { flags: 'a' }));
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Throws with the end of Felix's log once it has exited. */
  assertRunning(): void {
    if (this.exit !== undefined) throw new Error(`${this.exit}; last log lines:\n${this.tail.split('\n').slice(-20).join('\n')}`);
  }

  /** Felix's own readiness: datastore in sync and the data plane programmed once. */
  async waitReady(agent: ProbeAgent, timeout = 180_000): Promise<void> {
    await waitWhileAlive(
      async () => (await agent.httpGet(this.options.netns, HEALTH)).status === 200,
      () => this.assertRunning(),
      { timeout, interval: 500, message: `Felix v${this.options.version} (${this.options.dataplane}) to report ready on ${HEALTH}` },
    );
  }

  /** The node's packet filter as Felix programmed it: rules plus the IP sets they reference. */
  async dataplane(): Promise<string> {
    // The same nft as Felix's: another version may not parse what this one wrote.
    if (this.options.dataplane === 'nftables') return inNetns(this.options.netns, join(this.options.nftDir!, 'nft'), ['list', 'ruleset']);
    const rules = await inNetns(this.options.netns, 'iptables-nft-save', []);
    const sets = await inNetns(this.options.netns, 'ipset', ['save']);
    return `${rules}\n${sets}`;
  }

  logTail(lines = 30): string {
    return this.tail.split('\n').slice(-lines).join('\n');
  }

  async stop(): Promise<void> {
    if (this.exit === undefined && this.child.exitCode === null) {
      const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
      await gone;
      clearTimeout(timer);
    }
    await new Promise<void>((resolve) => this.log.end(() => resolve()));
  }
}
