import type { KubeObject, ResourceType } from './port.js';
import type { NativeCni } from '../translate/native.js';
import type { Translator } from './translator.js';

/** A CNI the operator writes to, once detected. */
export interface Backend {
  readonly name: 'calico' | 'cilium';
  /** For status and logs, e.g. "Calico v3.30.2 (projectcalico.org/v3)". */
  readonly description: string;
  /** The kinds it writes: watched (by ownership label) and the only kinds it ever modifies. */
  readonly types: readonly ResourceType[];
  /** Which cluster objects the translation depends on. */
  readonly inputs: { readonly networkPolicies: boolean; readonly nodes: boolean; readonly namespaces: boolean; readonly pods: boolean };
  /** A fresh translator for this backend (it keeps what it translated before, to redo only what changed). */
  translator(): Translator;
  /**
   * Whether an event on an input (before undefined: added; after undefined: deleted) may change
   * what its latest translator translated; left out: every event may. Called from the informer
   * handlers, which see every event in order between two translations.
   */
  relevant?(type: ResourceType, before: KubeObject | undefined, after: KubeObject | undefined): boolean;
}

export function typeFor(backend: Backend, obj: { apiVersion: string; kind: string }): ResourceType | undefined {
  return backend.types.find((t) => `${t.group === '' ? '' : `${t.group}/`}${t.version}` === obj.apiVersion && t.kind === obj.kind);
}

export function apiVersionOf(t: ResourceType): string {
  return t.group === '' ? t.version : `${t.group}/${t.version}`;
}

export type Detection =
  | { readonly kind: 'ready'; readonly backend: Backend }
  /**
   * The CNI enforces CNPs itself: the operator validates and reports, and writes nothing.
   * `backend` names the kinds it would write, so what an earlier run wrote can be removed.
   */
  | { readonly kind: 'stand-down'; readonly message: string; readonly backend?: Backend; readonly native?: NativeCni }
  | { readonly kind: 'unavailable'; readonly message: string };

export function isOwnedKind(backend: Backend, obj: KubeObject): boolean {
  return typeFor(backend, obj) !== undefined;
}
