import { createHash } from 'node:crypto';
import type { Snapshot } from '../api/model.js';
import { parsePod } from '../api/objects.js';
import type { PodWatch } from '../translate/cilium/pod-watch.js';
import { IncrementalCilium, type PolicyOutput } from '../translate/cilium/incremental.js';
import type { CiliumOptions } from '../translate/cilium/index.js';
import { stampDigests } from '../translate/digest.js';
import type { Finding, KubeObject } from '../translate/types.js';
import { objectKey, type DesiredState } from './desired.js';
import type { KubeObject as InputObject } from './port.js';
import type { Translator } from './translator.js';

// Cilium, incrementally: the compiler redoes only the steps whose inputs changed (see
// src/translate/cilium/incremental.ts), and only the CNPs whose objects or findings changed
// are stamped, fingerprinted and reported as changed. The desired state equals what
// wholeTranslator(translateCilium) gives for the same snapshots (test/unit/controller).

interface Owned {
  readonly source: PolicyOutput;
  readonly keys: readonly string[];
  readonly fingerprint: string;
}

const fingerprint = (objects: readonly KubeObject[], findings: readonly Finding[]): string => createHash('sha256').update(JSON.stringify([objects, findings])).digest('base64');

export interface CiliumTranslator extends Translator {
  /**
   * Whether a pod event (before undefined: added; after undefined: deleted) may change the
   * translation: true until the first translation, then only when it may change the answer to
   * a question the translation depends on. Must see every pod event after the last update, in
   * order (the informer's handlers); an event it let pass is not seen by the translation until
   * the next update, which reads the current pods anyway.
   */
  podEvent(before: InputObject | undefined, after: InputObject | undefined): boolean;
}

/**
 * The objects are held once, as the compiler keeps them; the digest-stamped copies the
 * reconciler compares and writes are made when it asks for an owner's objects.
 */
export function ciliumTranslator(options: CiliumOptions): CiliumTranslator {
  const compiler = new IncrementalCilium(options, { watchPods: true });
  let watch: PodWatch | undefined;
  const owned = new Map<string, Owned>();
  // Kept as owners change (a pass over thousands of CNPs for every update would cost more than
  // the translation of one change): the desired state is updated in place.
  const findings = new Map<string, readonly Finding[]>();
  const fingerprints = new Map<string, string>();
  const ownerByKey = new Map<string, string>();
  const stamped = (out: PolicyOutput): readonly KubeObject[] => stampDigests({ objects: out.objects, findings: [] }).objects;
  const desired: DesiredState = {
    objects: (owner) => {
      const out = owned.get(owner)?.source;
      return out === undefined ? [] : stamped(out);
    },
    findings: (owner) => findings.get(owner) ?? [],
    fingerprints,
    ownerByKey,
  };
  return {
    podEvent(before, after) {
      if (watch === undefined) return true;
      const pod = (o: InputObject | undefined) => (o === undefined ? undefined : parsePod(o).value);
      const b = pod(before);
      const a = pod(after);
      // An object that does not parse as a pod is not in the snapshot either way.
      if (b === undefined && a === undefined) return false;
      return watch.judge(b, a);
    },
    update(snapshot: Snapshot) {
      const t = compiler.translate(snapshot);
      watch = t.pods;
      for (const name of t.changed) {
        for (const key of owned.get(name)?.keys ?? []) if (ownerByKey.get(key) === name) ownerByKey.delete(key);
        findings.delete(name);
        fingerprints.delete(name);
        owned.delete(name);
        const out = t.byPolicy.get(name);
        if (out === undefined) continue;
        const o = { source: out, keys: out.objects.map(objectKey), fingerprint: fingerprint(stamped(out), out.findings) };
        owned.set(name, o);
        if (out.findings.length > 0) findings.set(name, out.findings);
        fingerprints.set(name, o.fingerprint);
        for (const key of o.keys) ownerByKey.set(key, name);
      }
      return { desired, changed: t.changed };
    },
  };
}
