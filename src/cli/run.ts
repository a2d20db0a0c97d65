import { parseIp } from '../api/ip.js';
import { createKubePort, loadKubeConfig } from '../kube/index.js';
import { Manager } from '../controller/manager.js';
import { StartupError } from '../controller/preflight.js';
import { createLogger, isLogLevel, Metrics, type LogLevel } from '../controller/runtime/index.js';
import { CliError } from './errors.js';
import { EXIT } from './exit-codes.js';
import { bool, flagName, oneOf, parseFlags, single, withEnvironment, type FlagSpec, type ParsedFlags } from './flags.js';
import { CILIUM_AGENT_FLAGS, TRANSLATION_FLAGS, TRANSLATION_HELP, translationOptions } from './translation-flags.js';

const HELP = `usage: cnp-operator run [flags]

Runs the operator: reconciles ClusterNetworkPolicies into the CNI's policy objects.

  --kubeconfig FILE               kubeconfig to use (default: in-cluster, then KUBECONFIG, then ~/.kube/config)
  --context NAME                  kubeconfig context
  --backend auto|calico|cilium    the CNI to write to (default auto)
  --force[=true|false]            write even where the CNI enforces CNPs itself (double enforcement)
  --leader-elect[=true|false]     leader election on a Lease (default true; false: one replica only)
  --leader-election-namespace NS  namespace of the Lease (default: POD_NAMESPACE, else cnp-system)
  --health-port N                 /healthz and /readyz (default 8081; 0 picks a free port; -1 disables)
  --health-bind-address IP        the address the probes listen on (default 0.0.0.0: every IPv4
                                  address, as the kubelet's probes need; :: for IPv6 too)
  --metrics-port N                /metrics (default 8080; 0 picks a free port; -1 disables it: then
                                  nowhere serves /metrics; the --health-port number: beside the probes)
  --metrics-bind-address IP       the address /metrics listens on (default 0.0.0.0, as Prometheus
                                  scrapes the pod's address)
  --workers N                     concurrent reconciles, 1 to 64 (default 2)
  --log-level debug|info|warn|error

${TRANSLATION_HELP}

The Cilium agent settings that \`translate\` takes as --cilium-* flags are not flags of run: the
operator reads them from the cluster (kube-system/cilium-config, the cilium DaemonSet's image)
and recomputes every CNP when they change. A flag would go stale when the agents change, and
settings the agents do not have make the objects be refused or match other traffic.

Every flag can also be set in the environment as CNP_OPERATOR_<FLAG> (e.g. CNP_OPERATOR_BACKEND=cilium,
CNP_OPERATOR_LEADER_ELECT=false), with the same rules (a boolean is true or false); a flag on the
command line wins, and an empty variable counts as unset.

Exit status: 0 stopped by SIGTERM or SIGINT; 1 cannot start or failed; 2 usage error.
`;

const SPEC = {
  values: [
    'kubeconfig', 'context', 'backend', 'leader-election-namespace', 'health-port', 'health-bind-address', 'metrics-port', 'metrics-bind-address', 'workers', 'log-level',
    ...TRANSLATION_FLAGS.values, ...CILIUM_AGENT_FLAGS.values,
  ],
  switches: ['help', 'force', 'leader-elect'],
  booleans: [...CILIUM_AGENT_FLAGS.booleans],
  aliases: { h: 'help' },
} as const satisfies FlagSpec;

function portFlag(flags: ParsedFlags, name: string, fallback: number): number | undefined {
  const v = single(flags, name) ?? String(fallback);
  if (!/^-?[0-9]+$/.test(v) || Number(v) < -1 || Number(v) > 65535) throw new CliError(`${flagName(flags, name)} must be a port number, 0 or -1, got "${v}"`, EXIT.usage);
  return Number(v) === -1 ? undefined : Number(v);
}

function bindAddress(flags: ParsedFlags, name: string): string {
  const v = single(flags, name) ?? '0.0.0.0';
  if (parseIp(v) === undefined) throw new CliError(`${flagName(flags, name)} must be an IP address, got "${v}"`, EXIT.usage);
  return v;
}

/** The servers' ports and addresses; one server when both ports are the same. */
function servers(flags: ParsedFlags): { healthPort?: number; metricsPort?: number; healthHost: string; metricsHost: string } {
  const healthPort = portFlag(flags, 'health-port', 8081);
  const metricsPort = portFlag(flags, 'metrics-port', 8080);
  const healthHost = bindAddress(flags, 'health-bind-address');
  const metricsHost = bindAddress(flags, 'metrics-bind-address');
  if (healthPort !== undefined && healthPort === metricsPort && healthHost !== metricsHost) {
    throw new CliError(`${flagName(flags, 'metrics-port')} is the probes' port, so /metrics is served beside them on ${healthHost}; ${flagName(flags, 'metrics-bind-address')} ${metricsHost} cannot apply`, EXIT.usage);
  }
  return { ...(healthPort === undefined ? {} : { healthPort }), ...(metricsPort === undefined ? {} : { metricsPort }), healthHost, metricsHost };
}

export async function runCommand(args: string[]): Promise<number> {
  const flags = withEnvironment(parseFlags(args, SPEC), SPEC, process.env);
  if (bool(flags, 'help', false)) {
    process.stdout.write(HELP);
    return EXIT.ok;
  }
  const agentFlag = [...CILIUM_AGENT_FLAGS.values, ...CILIUM_AGENT_FLAGS.booleans].find((k) => flags.given.has(k));
  if (agentFlag !== undefined) {
    throw new CliError(`${flagName(flags, agentFlag)} is a flag of translate: run reads the Cilium agents' settings from the cluster (see run --help)`, EXIT.usage);
  }
  const level = single(flags, 'log-level') ?? 'info';
  if (!isLogLevel(level)) throw new CliError(`${flagName(flags, 'log-level')} must be debug, info, warn or error, got "${level}"`, EXIT.usage);
  const backend = oneOf(flags, 'backend', ['auto', 'calico', 'cilium'] as const, 'auto');
  const { calicoApi, translation } = translationOptions(flags, backend);
  const workersText = single(flags, 'workers') ?? '2';
  const workers = /^[0-9]+$/.test(workersText) ? Number(workersText) : Number.NaN;
  if (!(workers >= 1 && workers <= 64)) throw new CliError(`${flagName(flags, 'workers')} must be between 1 and 64, got "${workersText}"`, EXIT.usage);
  const listen = servers(flags);
  const log = createLogger({ level: level as LogLevel });

  const kubeconfig = single(flags, 'kubeconfig');
  const context = single(flags, 'context');
  let kc;
  try {
    kc = loadKubeConfig({ ...(kubeconfig === undefined ? {} : { kubeconfig }), ...(context === undefined ? {} : { context }) });
  } catch (err) {
    const source = kubeconfig ?? process.env['KUBECONFIG'] ?? 'the in-cluster configuration or ~/.kube/config';
    throw new CliError(`cannot load a kubeconfig from ${source}: ${(err as Error).message}; check --kubeconfig and --context (or KUBECONFIG)`, EXIT.invalid);
  }
  const metrics = new Metrics();
  const server = kc.getCurrentCluster()?.server ?? '';
  const port = createKubePort(kc, { onRequest: metrics.restClient(server === '' ? 'unknown' : new URL(server).host) });
  const manager = new Manager({
    port,
    metrics,
    server: port.server,
    log,
    detect: { backend, force: bool(flags, 'force', false), ...(calicoApi === undefined ? {} : { calicoApi }), translation },
    ...(bool(flags, 'leader-elect', true) ? { leaderElection: { namespace: single(flags, 'leader-election-namespace') ?? process.env['POD_NAMESPACE'] ?? 'cnp-system' } } : {}),
    ...listen,
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
