import type { ResourceType } from '../controller/port.js';

/** `group/version`, or just `version` for the core group, as in an object's apiVersion. */
export function apiVersionOf(type: ResourceType): string {
  return type.group === '' ? type.version : `${type.group}/${type.version}`;
}

/** The discovery path of a group/version. */
export function groupVersionPath(group: string, version: string): string {
  return group === '' ? `/api/${version}` : `/apis/${group}/${version}`;
}

/**
 * The collection path of a resource. A namespaced resource without a namespace means every
 * namespace, which is what list and watch want.
 */
export function collectionPath(type: ResourceType, namespace?: string): string {
  const base = groupVersionPath(type.group, type.version);
  const ns = type.namespaced && namespace !== undefined ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${base}${ns}/${type.plural}`;
}

/** The path of one object (and optionally a subresource); namespaced objects need their namespace. */
export function objectPath(type: ResourceType, name: string, namespace?: string, subresource?: string): string {
  if (type.namespaced && !namespace) throw new Error(`${type.kind} ${name}: a namespaced object needs a namespace`);
  const sub = subresource === undefined ? '' : `/${subresource}`;
  return `${collectionPath(type, namespace)}/${encodeURIComponent(name)}${sub}`;
}

/** A query string from the defined entries, or '' when there are none. */
export function query(params: Record<string, string | number | boolean | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, String(v));
  const s = q.toString();
  return s === '' ? '' : `?${s}`;
}
