import { existsSync, readFileSync, statSync } from 'node:fs';
import type { RequestOptions } from 'node:https';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import { parse } from 'yaml';

// API access from a kubeconfig or a pod's service account. The common credentials — bearer
// tokens (inline or from a file, re-read as they rotate), client certificates, CA bundles,
// insecure-skip-tls-verify — are read here. Exec plugins and auth providers, which need
// @kubernetes/client-node's implementation, load it on first use: importing it costs about
// 75 MiB of memory, more than everything else the operator holds for thousands of policies.

/** Where the service account's token lives in a pod; its presence (with the service env) means "in a cluster". */
const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface KubeConfigSource {
  /** A kubeconfig file; wins over everything else. */
  readonly kubeconfig?: string;
  /** A context of that kubeconfig other than its current one. */
  readonly context?: string;
}

export interface ClusterAccess {
  readonly name: string;
  readonly server: string;
  readonly proxyUrl?: string;
}

/** What the transport needs: where the API server is, and how to authenticate to it. */
export interface KubeAccess {
  getCurrentCluster(): ClusterAccess | undefined;
  /** Adds TLS material and credentials to request options (re-reading rotated token files). */
  applyToHTTPSOptions(options: RequestOptions): Promise<void>;
}

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

interface Named {
  readonly name: string;
  readonly value: Json;
  /** The file it came from: relative paths in it are relative to that file's folder. */
  readonly file: string;
}

interface Merged {
  readonly clusters: Map<string, Named>;
  readonly users: Map<string, Named>;
  readonly contexts: Map<string, Named>;
  currentContext: string | undefined;
  readonly files: string[];
}

/** Merges kubeconfig files as kubectl does: the first file to name a cluster, user or context wins. */
function readFiles(files: readonly string[]): Merged {
  const merged: Merged = { clusters: new Map(), users: new Map(), contexts: new Map(), currentContext: undefined, files: [...files] };
  for (const file of files) {
    const doc: unknown = parse(readFileSync(file, 'utf8'));
    if (!isObj(doc)) throw new Error(`${file} is not a kubeconfig (not a YAML mapping)`);
    const take = (list: unknown, field: string, into: Map<string, Named>): void => {
      if (!Array.isArray(list)) return;
      for (const item of list as unknown[]) {
        if (!isObj(item) || typeof item['name'] !== 'string') continue;
        if (!into.has(item['name'])) into.set(item['name'], { name: item['name'], value: isObj(item[field]) ? item[field] : {}, file });
      }
    };
    take(doc['clusters'], 'cluster', merged.clusters);
    take(doc['users'], 'user', merged.users);
    take(doc['contexts'], 'context', merged.contexts);
    if (merged.currentContext === undefined && typeof doc['current-context'] === 'string' && doc['current-context'] !== '') merged.currentContext = doc['current-context'];
  }
  return merged;
}

function relativeTo(file: string, path: string): string {
  return isAbsolute(path) ? path : join(dirname(file), path);
}

function str(o: Json, key: string): string | undefined {
  return typeof o[key] === 'string' && o[key] !== '' ? (o[key] as string) : undefined;
}

/** A file's contents, read again only when it changed (projected service-account tokens rotate). */
class RereadFile {
  private mtime = -1;
  private text = '';
  constructor(readonly path: string) {}
  read(): string {
    const mtime = statSync(this.path).mtimeMs;
    if (mtime !== this.mtime) {
      this.text = readFileSync(this.path, 'utf8').trim();
      this.mtime = mtime;
    }
    return this.text;
  }
}

class FileAccess implements KubeAccess {
  private readonly cluster: ClusterAccess;
  private readonly ca: Buffer | undefined;
  private readonly insecure: boolean;
  private readonly serverName: string | undefined;
  private readonly cert: Buffer | undefined;
  private readonly key: Buffer | undefined;
  private readonly token: string | undefined;
  private readonly tokenFile: RereadFile | undefined;
  private readonly basic: string | undefined;
  /** Exec plugins and auth providers: client-node's, loaded on first use. */
  private delegate: Promise<KubeAccess> | undefined;
  private readonly needsDelegate: boolean;

  constructor(
    cluster: Named,
    user: Named | undefined,
    private readonly loadDelegate: () => Promise<KubeAccess>,
  ) {
    const c = cluster.value;
    const server = str(c, 'server');
    if (server === undefined) throw new Error(`cluster "${cluster.name}" has no server`);
    const proxyUrl = str(c, 'proxy-url');
    this.cluster = { name: cluster.name, server, ...(proxyUrl === undefined ? {} : { proxyUrl }) };
    const caData = str(c, 'certificate-authority-data');
    const caFile = str(c, 'certificate-authority');
    this.ca = caData !== undefined ? Buffer.from(caData, 'base64') : caFile !== undefined ? readFileSync(relativeTo(cluster.file, caFile)) : undefined;
    this.insecure = c['insecure-skip-tls-verify'] === true;
    this.serverName = str(c, 'tls-server-name');
    const u = user?.value ?? {};
    const from = user?.file ?? cluster.file;
    const data = (dataKey: string, fileKey: string): Buffer | undefined => {
      const d = str(u, dataKey);
      const f = str(u, fileKey);
      return d !== undefined ? Buffer.from(d, 'base64') : f !== undefined ? readFileSync(relativeTo(from, f)) : undefined;
    };
    this.cert = data('client-certificate-data', 'client-certificate');
    this.key = data('client-key-data', 'client-key');
    this.token = str(u, 'token');
    const tokenFile = str(u, 'tokenFile');
    this.tokenFile = tokenFile === undefined ? undefined : new RereadFile(relativeTo(from, tokenFile));
    const username = str(u, 'username');
    this.basic = username === undefined ? undefined : Buffer.from(`${username}:${str(u, 'password') ?? ''}`).toString('base64');
    this.needsDelegate = isObj(u['exec']) || isObj(u['auth-provider']);
  }

  getCurrentCluster(): ClusterAccess {
    return this.cluster;
  }

  async applyToHTTPSOptions(options: RequestOptions): Promise<void> {
    if (this.needsDelegate) {
      this.delegate ??= this.loadDelegate();
      await (await this.delegate).applyToHTTPSOptions(options);
      return;
    }
    if (this.ca !== undefined) options.ca = this.ca;
    if (this.insecure) options.rejectUnauthorized = false;
    if (this.serverName !== undefined) options.servername = this.serverName;
    if (this.cert !== undefined) options.cert = this.cert;
    if (this.key !== undefined) options.key = this.key;
    const token = this.tokenFile?.read() ?? this.token;
    const headers = (options.headers ?? {}) as Record<string, string | number | string[]>;
    if (token !== undefined) headers['Authorization'] = `Bearer ${token}`;
    else if (this.basic !== undefined) headers['Authorization'] = `Basic ${this.basic}`;
    options.headers = headers;
  }
}

/** client-node's KubeConfig for the same file and context, for what only it implements. */
function clientNodeAccess(explicitFile: string | undefined, context: string): () => Promise<KubeAccess> {
  return async () => {
    const { KubeConfig } = await import('@kubernetes/client-node');
    const kc = new KubeConfig();
    if (explicitFile !== undefined) kc.loadFromFile(explicitFile);
    else kc.loadFromDefault();
    kc.setCurrentContext(context);
    return kc as unknown as KubeAccess;
  };
}

function inCluster(env: NodeJS.ProcessEnv): KubeAccess {
  const host = env['KUBERNETES_SERVICE_HOST']!;
  const server = `https://${host.includes(':') ? `[${host}]` : host}:${env['KUBERNETES_SERVICE_PORT']!}`;
  const file = join(SERVICE_ACCOUNT_DIR, 'kubeconfig');
  return new FileAccess(
    { name: 'in-cluster', value: { server, 'certificate-authority': join(SERVICE_ACCOUNT_DIR, 'ca.crt') }, file },
    { name: 'in-cluster', value: { tokenFile: join(SERVICE_ACCOUNT_DIR, 'token') }, file },
    () => Promise.reject(new Error('in-cluster access needs no plugin')),
  );
}

function defaultFiles(env: NodeJS.ProcessEnv): string[] {
  const listed = (env['KUBECONFIG'] ?? '').split(delimiter).filter((f) => f !== '');
  if (listed.length > 0) return listed.filter((f) => existsSync(f));
  const home = join(env['HOME'] ?? homedir(), '.kube', 'config');
  return existsSync(home) ? [home] : [];
}

/**
 * Loads API access the way controller-runtime does: an explicit kubeconfig file first,
 * then the pod's service account when running in a cluster, then KUBECONFIG or ~/.kube/config.
 * Throws when nothing usable is found or the context does not exist.
 */
export function loadKubeConfig(source: KubeConfigSource = {}, env: NodeJS.ProcessEnv = process.env): KubeAccess {
  if (source.kubeconfig === undefined && runsInCluster(env)) {
    if (source.context !== undefined) throw new Error(`kubeconfig has no context named "${source.context}" (running in a cluster with the pod's service account)`);
    return inCluster(env);
  }
  const files = source.kubeconfig !== undefined ? [source.kubeconfig] : defaultFiles(env);
  if (files.length === 0) throw new Error('no Kubernetes API configured: pass --kubeconfig, set KUBECONFIG, or run in a pod with a service account');
  const merged = readFiles(files);
  const contextName = source.context ?? merged.currentContext;
  if (contextName === undefined) throw new Error(`${files.join(', ')}: no current-context; pass --context`);
  const context = merged.contexts.get(contextName);
  if (context === undefined) throw new Error(`kubeconfig has no context named "${contextName}"`);
  const clusterName = str(context.value, 'cluster');
  const cluster = clusterName === undefined ? undefined : merged.clusters.get(clusterName);
  if (cluster === undefined) throw new Error(`context "${contextName}" names cluster "${clusterName ?? ''}", which the kubeconfig does not have`);
  const userName = str(context.value, 'user');
  const user = userName === undefined ? undefined : merged.users.get(userName);
  if (userName !== undefined && user === undefined) throw new Error(`context "${contextName}" names user "${userName}", which the kubeconfig does not have`);
  return new FileAccess(cluster, user, clientNodeAccess(source.kubeconfig, contextName));
}

function runsInCluster(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env['KUBERNETES_SERVICE_HOST'] && env['KUBERNETES_SERVICE_PORT']) && existsSync(join(SERVICE_ACCOUNT_DIR, 'token'));
}
