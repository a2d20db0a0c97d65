import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ANP_CONFORMANCE, anpModule, readAnpDigest, type DigestCase } from '../support/anp-conformance.js';
import { REPO } from '../support/paths.js';

// The digest in upstream/anp-conformance-v0.1.1 is derived data. It is checked twice against the Go
// sources of the suite in sigs.k8s.io/network-policy-api v0.1.1: the transcriber that made it
// (hack/anp-conformance, go/parser) must reproduce it byte for byte, and an independent reading of
// the source lines here must agree with every probe, mutation and step boundary in it.

const digest = readAnpDigest();
const module = anpModule();

function goLines(c: DigestCase): string[] {
  return readFileSync(join(module, c.goFile), 'utf8').split('\n');
}

/** The namespaced `client.ObjectKey{Namespace, Name}` read last before a line, and the variable it is read into. */
function readKey(lines: readonly string[], beforeLine: number): { namespace: string; name: string; into: string } {
  const at = lines.slice(0, beforeLine - 1).findLastIndex((l) => /^\s*Namespace: "/.test(l));
  const value = (l: string | undefined): string => /"(.*)"/.exec(l ?? '')?.[1] ?? '';
  expect(lines[at + 1]).toMatch(/^\s*Name: +"/);
  const into = /^\s*\}, (\w+)\)/.exec(lines[at + 2] ?? '')?.[1] ?? '';
  return { namespace: value(lines[at]), name: value(lines[at + 1]), into };
}

describe('the v0.1.1 AdminNetworkPolicy conformance digest matches the suite in the module', () => {
  it('is what hack/anp-conformance makes of the module, byte for byte', () => {
    const env = { ...process.env, PATH: `${process.env['PATH'] ?? ''}:/usr/local/go/bin`, GOFLAGS: '-mod=mod' };
    const made = execFileSync('go', ['run', '.', module], { cwd: join(REPO, 'hack', 'anp-conformance'), env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    expect(made).toBe(readFileSync(join(ANP_CONFORMANCE, 'cases.json'), 'utf8'));
  }, 240_000);

  it('has one case per ConformanceTest of the suite, with the counts it states', () => {
    const files = new Set(digest.cases.map((c) => basename(c.goFile)));
    const source = [...files].map((f) => readFileSync(join(module, 'conformance', 'tests', f), 'utf8')).join('\n');
    expect(digest.cases).toHaveLength((source.match(/ConformanceTest\{/g) ?? []).length);
    expect(digest.cases).toHaveLength(16);
    expect(new Set(digest.cases.map((c) => c.name)).size).toBe(16);
    const probes = digest.cases.flatMap((c) => c.probes);
    expect(digest.counts).toEqual({
      cases: 16,
      probes: probes.length,
      steps: digest.cases.reduce((n, c) => n + c.steps.length, 0),
      probesByExpect: { allow: probes.filter((p) => p.expect === 'allow').length, deny: probes.filter((p) => p.expect === 'deny').length },
    });
    expect(probes).toHaveLength(230);
  });

  for (const c of digest.cases) {
    it(`${c.name}: name, manifests, every PokeServer call (client, server, protocol, port, expectation), mutations and steps`, () => {
      const lines = goLines(c);
      expect(lines.some((l) => l.includes('ShortName:') && l.includes(`"${c.name}"`))).toBe(true);
      for (const m of c.manifests) expect(existsSync(join(module, 'conformance', m)), m).toBe(true);

      // Every call in the file is one probe of this case (one test per file in v0.1.1).
      const calls = lines.flatMap((l, i) => (l.includes('kubernetes.PokeServer(') ? [i + 1] : []));
      expect(c.probes.map((p) => p.goLine)).toEqual(calls);
      for (const p of c.probes) {
        const where = `${c.name} line ${p.goLine}`;
        // A call spans two lines: the client and protocol, then the server, port and expectation.
        const call = `${lines[p.goLine - 1]} ${lines[p.goLine]}`;
        const [ns, pod] = p.from.split('/');
        expect(call, where).toContain(`"${ns}", "${pod}", "${p.protocol.toLowerCase()}"`);
        expect(call, where).toContain(`clientPod.Status.PodIP, int32(${p.port}),`);
        expect(call, where).toMatch(new RegExp(`, ${p.expect === 'allow' ? 'true' : 'false'}\\)`));
        // The server is the pod last read into clientPod: the nearest Get with a Namespace above.
        const get = readKey(lines, p.goLine);
        expect(get.into, where).toBe('clientPod');
        expect(`${get.namespace}/${get.name}`, where).toBe(p.to);
      }

      // Every Update or Delete in the file is one mutation, with what the lines before it change.
      const mutations = c.steps.flatMap((s) => s.mutationsBefore);
      const writes = lines.flatMap((l, i) => (/s\.Client\.(Update|Delete)\(/.test(l) ? [i + 1] : []));
      expect(mutations.map((m) => m.goLine)).toEqual(writes);
      for (const m of mutations) {
        const line = lines[m.goLine - 1]!;
        const where = `${c.name} line ${m.goLine}`;
        if (m.kind === 'deleteNetworkPolicy') {
          expect(line, where).toContain('s.Client.Delete(ctx, np)');
          expect(readKey(lines, m.goLine), where).toEqual({ namespace: m.namespace, name: m.name, into: 'np' });
          continue;
        }
        const variable = m.kind === 'updateAdminNetworkPolicy' ? 'anp' : 'banp';
        expect(line, where).toContain(`s.Client.Update(ctx, ${variable})`);
        // The edits sit between the policy's Get (with its Name) and the Update.
        const start = lines.slice(0, m.goLine - 1).findLastIndex((l) => l.includes(`Name: "${m.policy}"`));
        expect(start, where).toBeGreaterThan(0);
        const edits = lines.slice(start, m.goLine - 1).filter((l) => new RegExp(`^\\s*${variable}\\.Spec\\.`).test(l)).map((l) => l.trim());
        const expected = (m.ops ?? []).flatMap((op) => {
          const dir = op.direction === 'ingress' ? 'Ingress' : 'Egress';
          switch (op.op) {
            case 'swapRules':
              return [`${variable}.Spec.${dir}[${op.indices![0]}] = ${variable}.DeepCopy().Spec.${dir}[${op.indices![1]}]`, `${variable}.Spec.${dir}[${op.indices![1]}] =`];
            case 'setAction':
              return [`${variable}.Spec.${dir}[${op.index}].Action = v1alpha1.AdminNetworkPolicyRuleAction${op.action}`];
            case 'setPriority':
              return [`${variable}.Spec.Priority = ${op.priority}`];
          }
        });
        // The same edits in any order (the transcriber lists ingress before egress).
        expect(edits.length, where).toBe(expected.length);
        const unmatched = [...edits];
        for (const e of expected) {
          const at = unmatched.findIndex((l) => l.startsWith(e));
          expect(at, `${where}: no edit ${e} in ${edits.join(' / ')}`).toBeGreaterThanOrEqual(0);
          unmatched.splice(at, 1);
        }
      }

      // A step starts at the first probe after one or more writes.
      for (let i = 1; i < c.probes.length; i++) {
        const [prev, next] = [c.probes[i - 1]!, c.probes[i]!];
        const written = writes.some((w) => w > prev.goLine && w < next.goLine);
        expect(next.step, `${c.name} line ${next.goLine}`).toBe(prev.step + (written ? 1 : 0));
      }
      expect(c.probes[0]!.step).toBe(0);
      expect(c.steps.map((s) => s.step)).toEqual(c.steps.map((_s, i) => i));
    });
  }
});
