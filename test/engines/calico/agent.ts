import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Protocol } from '../../../src/api/model.js';

// The client side of hack/probe (cnp-lab-probe): a long-lived process that holds the
// responders of every lab pod, sends probes from inside pod namespaces, and forwards the API
// server into the node's namespace. One JSON request per line; answers matched by id.

export type Observed = 'allow' | 'deny' | 'error';

export interface ProbeRequest {
  /** Network namespace (name under /run/netns) to send from. */
  readonly netns: string;
  readonly src: string;
  readonly dst: string;
  readonly port: number;
  readonly protocol: Protocol;
}

export interface ProbeResult {
  readonly observed: Observed;
  readonly detail: string;
}

interface Answer {
  id: number;
  ok: boolean;
  error?: string;
  result?: string;
  detail?: string;
  status?: number;
  body?: string;
}

/**
 * How long a probe waits for an answer before it counts as dropped. Policy is settled before
 * probing, so this only has to cover a busy machine's scheduling; UDP and SCTP resend within it
 * and TCP has the kernel's SYN retransmission.
 */
export const PROBE_TIMEOUT_MS = 3000;

const netnsPath = (name: string): string => `/run/netns/${name}`;

export class ProbeAgent {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (a: Answer) => void; reject: (e: Error) => void }>();
  private exited: string | undefined;
  private stderr = '';

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    createInterface({ input: child.stdout }).on('line', (line) => {
      let answer: Answer;
      try {
        answer = JSON.parse(line) as Answer;
      } catch {
        return;
      }
      const p = this.pending.get(answer.id);
      if (p === undefined) return;
      this.pending.delete(answer.id);
      p.resolve(answer);
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (this.stderr = (this.stderr + d).slice(-4000)));
    child.on('exit', (code, signal) => {
      this.exited = `cnp-lab-probe exited (${code ?? signal}): ${this.stderr.trim()}`;
      for (const p of this.pending.values()) p.reject(new Error(this.exited));
      this.pending.clear();
    });
  }

  static async start(binary: string): Promise<ProbeAgent> {
    const child = spawn(binary, [], { stdio: ['pipe', 'pipe', 'pipe'] });
    const agent = new ProbeAgent(child);
    // The agent announces itself with id 0 once it reads requests.
    const ready = new Promise<Answer>((resolve, reject) => agent.pending.set(0, { resolve, reject }));
    await ready;
    return agent;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  private request(body: Record<string, unknown>): Promise<Answer> {
    if (this.exited !== undefined) return Promise.reject(new Error(this.exited));
    const id = this.nextId++;
    return new Promise<Answer>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.stdin.write(`${JSON.stringify({ ...body, id })}\n`);
    });
  }

  private async must(body: Record<string, unknown>): Promise<Answer> {
    const a = await this.request(body);
    if (!a.ok) throw new Error(`cnp-lab-probe ${String(body['op'])}: ${a.error ?? 'failed'}`);
    return a;
  }

  /** Listens on ip inside netns on these ports until unserve. */
  async serve(netns: string, ip: string, ports: { tcp: number[]; udp: number[]; sctp: number[] }): Promise<void> {
    await this.must({ op: 'serve', netns: netnsPath(netns), ip, ...ports });
  }

  async unserve(netns: string, ip: string): Promise<void> {
    await this.must({ op: 'unserve', netns: netnsPath(netns), ip });
  }

  /** Accepts on `listen` inside netns and connects to `to` from the agent's (the test's) namespace. */
  async forward(netns: string, listen: string, to: string): Promise<void> {
    await this.must({ op: 'forward', netns: netnsPath(netns), listen, to });
  }

  async httpGet(netns: string, url: string): Promise<{ status: number; body: string }> {
    const a = await this.must({ op: 'http', netns: netnsPath(netns), url, timeoutMs: 5000 });
    return { status: a.status ?? 0, body: a.body ?? '' };
  }

  async probe(p: ProbeRequest, timeoutMs = PROBE_TIMEOUT_MS): Promise<ProbeResult> {
    const a = await this.must({ op: 'probe', netns: netnsPath(p.netns), src: p.src, dst: p.dst, port: p.port, protocol: p.protocol, timeoutMs });
    const observed = a.result === 'allow' || a.result === 'deny' ? a.result : 'error';
    return { observed, detail: a.detail ?? '' };
  }

  /** Closing stdin ends the agent and with it every socket it holds. */
  async stop(): Promise<void> {
    if (this.exited !== undefined) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await gone;
    clearTimeout(timer);
  }
}
