import { type ChildProcess, spawn } from 'node:child_process';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePorts } from '../../src/cluster/ports.js';
import { kubeconfig, waitFor } from '../harness/index.js';
import { REPO } from '../support/paths.js';

// `cnp-operator run` as a process: where its probe and metrics servers listen, by flag.
// (--backend cilium with no cilium-config: it writes nothing that other tests look at.)

interface Running {
  readonly child: ChildProcess;
  log: string;
  readonly exit: Promise<number | null>;
}

let running: Running | undefined;

function start(args: readonly string[]): Running {
  const child = spawn(process.execPath, [join(REPO, 'bin', 'cnp-operator'), 'run', '--kubeconfig', kubeconfig(), '--backend', 'cilium', ...args], {
    cwd: REPO,
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const r: Running = { child, log: '', exit: new Promise((resolve) => child.on('exit', (code) => resolve(code))) };
  child.stderr!.on('data', (d: Buffer) => (r.log += d.toString()));
  running = r;
  return r;
}

/** The ports of the servers, from the `started` log line. */
async function started(r: Running): Promise<number[]> {
  const line = await waitFor(
    () => {
      if (r.child.exitCode !== null) throw new Error(`run exited (${r.child.exitCode}):\n${r.log}`);
      return r.log.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg: string; ports?: number[] }).find((e) => e.msg === 'started');
    },
    { timeout: 60_000, message: 'run to start' },
  );
  return line.ports ?? [];
}

function get(host: string, port: number, path: string): Promise<number | string> {
  return new Promise((resolve) => {
    const req = request({ host, port, path, timeout: 5000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    req.end();
  });
}

afterEach(async () => {
  if (running === undefined) return;
  running.child.kill('SIGTERM');
  expect(await running.exit).toBe(0);
  running = undefined;
});

describe('run: the probe and metrics servers', () => {
  it('--metrics-port -1 serves /metrics nowhere; the probes still answer', async () => {
    const r = start(['--leader-elect=false', '--health-port', '0', '--metrics-port', '-1']);
    const ports = await started(r);
    expect(ports).toHaveLength(1);
    expect(await get('127.0.0.1', ports[0]!, '/healthz')).toBe(200);
    expect(await get('127.0.0.1', ports[0]!, '/metrics')).toBe(404);
  });

  it('each server listens on its own bind address, /metrics on a port of its own', async () => {
    const [metricsPort] = await freePorts(1);
    // 127.0.0.2 is a loopback address too, but a server bound to one does not answer on the other.
    const r = start(['--leader-elect', '--leader-election-namespace', 'default', '--workers', '1', '--health-port', '0', '--health-bind-address', '127.0.0.1', '--metrics-port', String(metricsPort), '--metrics-bind-address', '127.0.0.2']);
    const [health, metrics] = await started(r);
    expect(metrics).toBe(metricsPort);
    expect(await get('127.0.0.1', health!, '/healthz')).toBe(200);
    expect(await get('127.0.0.2', health!, '/healthz')).toBe('ECONNREFUSED');
    expect(await get('127.0.0.1', health!, '/metrics')).toBe(404);
    expect(await get('127.0.0.2', metrics!, '/metrics')).toBe(200);
    expect(await get('127.0.0.1', metrics!, '/metrics')).toBe('ECONNREFUSED');
  });
});
