import { createKubePort, loadKubeConfig } from '../kube/index.js';
import { Manager } from '../controller/manager.js';
import { StartupError } from '../controller/preflight.js';
import { createLogger, isLogLevel, Metrics, type LogLevel } from '../controller/runtime/index.js';
import { CliError } from './errors.js';
import { oneOf, parseFlags, single } from './flags.js';

const HELP = `usage: cnp-operator run [flags]

Runs the operator: reconciles ClusterNetworkPolicies into the CNI's policy objects.

  --kubeconfig FILE            kubeconfig to use (default: in-cluster, then KUBECONFIG, then ~/.kube/config)
  --context NAME               kubeconfig context
  --backend auto|calico|cilium the CNI to write to (default auto)
  --calico-api API             projectcalico.org/v3 or crd.projectcalico.org/v1 (default: what is served)
  --force                      write even where the CNI enforces CNPs itself (double enforcement)
  --leader-elect=false         no leader election (one replica only)
  --leader-election-namespace  namespace of the Lease (default: POD_NAMESPACE, else cnp-system)
  --health-port N              /healthz and /readyz (default 8081; 0 picks a free port; -1 disables)
  --metrics-port N             /metrics (default 8080; -1 disables)
  --workers N                  concurrent reconciles (default 2)
  --log-level debug|info|warn|error

Every flag can also be set in the environment as CNP_OPERATOR_<FLAG> (e.g. CNP_OPERATOR_BACKEND=cilium).
`;

const VALUE_FLAGS = ['kubeconfig', 'context', 'backend', 'calico-api', 'leader-elect', 'leader-election-namespace', 'health-port', 'metrics-port', 'workers', 'log-level', 'health-bind-address'] as const;

function fromEnv(name: string): string | undefined {
  return process.env[`CNP_OPERATOR_${name.toUpperCase().replace(/-/g, '_')}`];
}

function portFlag(value: string | undefined, name: string, fallback: number): number | undefined {
  const v = value ?? String(fallback);
  if (!/^-?[0-9]+$/.test(v) || Number(v) < -1 || Number(v) > 65535) throw new CliError(`--${name} must be a port number, 0 or -1, got "${v}"`, 2);
  return Number(v) === -1 ? undefined : Number(v);
}

export async function runCommand(args: string[]): Promise<number> {
  const flags = parseFlags(args, { values: [...VALUE_FLAGS], switches: ['help', 'force'], aliases: { h: 'help' } });
  if (flags.switches.has('help')) {
    process.stdout.write(HELP);
    return 0;
  }
  const get = (name: string): string | undefined => single(flags, name) ?? fromEnv(name);
  const level = get('log-level') ?? 'info';
  if (!isLogLevel(level)) throw new CliError(`--log-level must be debug, info, warn or error, got "${level}"`, 2);
  const log = createLogger({ level: level as LogLevel });
  const backend = oneOf({ ...flags, values: new Map([['backend', [get('backend') ?? 'auto']]]) }, 'backend', ['auto', 'calico', 'cilium'] as const, 'auto');
  const calicoApiRaw = get('calico-api');
  if (calicoApiRaw !== undefined && calicoApiRaw !== 'projectcalico.org/v3' && calicoApiRaw !== 'crd.projectcalico.org/v1') {
    throw new CliError(`--calico-api must be projectcalico.org/v3 or crd.projectcalico.org/v1, got "${calicoApiRaw}"`, 2);
  }
  const leaderElect = (get('leader-elect') ?? 'true') !== 'false';
  const workers = Number(get('workers') ?? '2');
  if (!Number.isInteger(workers) || workers < 1 || workers > 64) throw new CliError('--workers must be between 1 and 64', 2);
  const force = flags.switches.has('force') || fromEnv('force') === 'true';

  let kc;
  try {
    kc = loadKubeConfig({ ...(get('kubeconfig') === undefined ? {} : { kubeconfig: get('kubeconfig')! }), ...(get('context') === undefined ? {} : { context: get('context')! }) });
  } catch (err) {
    const source = get('kubeconfig') ?? process.env['KUBECONFIG'] ?? 'the in-cluster configuration or ~/.kube/config';
    throw new CliError(`cannot load a kubeconfig from ${source}: ${(err as Error).message}; check --kubeconfig and --context (or KUBECONFIG)`, 1);
  }
  const metrics = new Metrics();
  const server = kc.getCurrentCluster()?.server ?? '';
  const port = createKubePort(kc, { onRequest: metrics.restClient(server === '' ? 'unknown' : new URL(server).host) });
  const manager = new Manager({
    port,
    metrics,
    server: port.server,
    log,
    detect: { backend, force, ...(calicoApiRaw === undefined ? {} : { calicoApi: calicoApiRaw }) },
    ...(leaderElect ? { leaderElection: { namespace: get('leader-election-namespace') ?? process.env['POD_NAMESPACE'] ?? 'cnp-system' } } : {}),
    healthPort: portFlag(get('health-port'), 'health-port', 8081),
    metricsPort: portFlag(get('metrics-port'), 'metrics-port', 8080),
    ...(get('health-bind-address') === undefined ? {} : { healthHost: get('health-bind-address')! }),
    workers,
  });
  const shutdown = (signal: string): void => {
    log.info('shutting down', { signal });
    void manager.stop();
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  try {
    await manager.start();
  } catch (err) {
    // A StartupError says what is missing and what to change; anything else is unexpected.
    log.error(err instanceof StartupError ? `cannot start: ${err.message}` : 'start failed', err instanceof StartupError ? {} : { error: (err as Error).message });
    await manager.stop();
    port.close();
    return 1;
  }
  log.info('started', { ports: manager.ports() });
  const code = await manager.done;
  port.close();
  return code;
}
