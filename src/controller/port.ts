// The controller's only view of the Kubernetes API. src/kube implements it with
// @kubernetes/client-node; tests may implement it in memory for pure logic, but
// the operator is proven against a real API server.

export interface ResourceType {
  readonly group: string; // '' for the core group
  readonly version: string;
  readonly plural: string;
  readonly kind: string;
  readonly namespaced: boolean;
}

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: {
    apiVersion: string;
    kind: string;
    name: string;
    uid: string;
    controller?: boolean;
    blockOwnerDeletion?: boolean;
  }[];
  managedFields?: { manager?: string; operation?: string; subresource?: string; fieldsV1?: unknown }[];
}

/** Any Kubernetes object as raw JSON. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

export type WatchEvent =
  | { readonly type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK'; readonly object: KubeObject }
  | { readonly type: 'ERROR'; readonly status: { readonly code?: number; readonly reason?: string; readonly message?: string } };

/** A failed API call: the HTTP status (0 for transport errors) and the Status reason. */
export class KubeApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'KubeApiError';
  }
}

export interface ListOptions {
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  readonly limit?: number;
  readonly continue?: string;
  /**
   * Applied to each item as its page arrives, so a page of full objects can be dropped before
   * the next is read: a cache that keeps little of each object never holds the whole list.
   */
  readonly each?: (obj: KubeObject) => KubeObject;
}

export interface WatchOptions {
  readonly resourceVersion: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  readonly timeoutSeconds: number;
  readonly allowWatchBookmarks: boolean;
}

export interface ApplyOptions {
  readonly fieldManager: string;
  readonly force: boolean;
  readonly dryRun?: boolean;
}

export interface WriteOptions {
  readonly fieldManager?: string;
  /** Validate and default only: nothing is stored, the result is what would be. */
  readonly dryRun?: boolean;
}

export interface DeleteOptions {
  readonly namespace?: string;
  /** Precondition: delete only this incarnation of the object. */
  readonly uid?: string;
  readonly resourceVersion?: string;
  readonly propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
}

/** Objects a port hands out (list items, watch events, answers) are the caller's own: new for each call, shared with nothing. */
export interface KubePort {
  list(type: ResourceType, options?: ListOptions): Promise<{ items: KubeObject[]; resourceVersion: string }>;
  /**
   * Streams events from `resourceVersion` until the server ends the watch (resolves),
   * the signal aborts (resolves), or an error happens (rejects with KubeApiError).
   * A 410 Gone arrives as an ERROR event or a rejected KubeApiError with status 410.
   */
  watch(type: ResourceType, options: WatchOptions, onEvent: (event: WatchEvent) => void, signal: AbortSignal): Promise<void>;
  get(type: ResourceType, name: string, namespace?: string): Promise<KubeObject | undefined>;
  create(type: ResourceType, object: KubeObject, options?: WriteOptions): Promise<KubeObject>;
  /** PUT with the object's resourceVersion (optimistic concurrency; 409 on conflict). */
  replace(type: ResourceType, object: KubeObject, options?: WriteOptions): Promise<KubeObject>;
  /** Server-side apply of the whole object. */
  apply(type: ResourceType, object: KubeObject, options: ApplyOptions): Promise<KubeObject>;
  /**
   * Server-side apply on the status subresource. The answer (the whole object, managed fields
   * and all) is not decoded: no caller reads it, and the operator writes a status per CNP.
   */
  applyStatus(type: ResourceType, object: KubeObject, options: ApplyOptions): Promise<void>;
  /** Resolves false when the object was already gone. */
  delete(type: ResourceType, name: string, options?: DeleteOptions): Promise<boolean>;
  /** The resources served for a group/version, or undefined when it is not served. */
  discover(group: string, version: string): Promise<{ name: string; kind: string; namespaced: boolean }[] | undefined>;
  /** The version the API server prefers for a group (what kubectl uses), or undefined when the group is not served. */
  preferredVersion(group: string): Promise<string | undefined>;
}
