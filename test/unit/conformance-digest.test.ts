import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFORMANCE, networkPolicyApi } from '../support/paths.js';

// The conformance digest in upstream/conformance-v0.3.0 is derived data: this checks it against
// the Go sources of the suite in the sigs.k8s.io/network-policy-api v0.3.0 module, so a wrong or
// stale copy fails here rather than silently weakening every replay that uses it.

interface DigestProbe {
  step: number;
  from: string;
  port: number;
  protocol: string;
  expect: 'allow' | 'deny';
  derivedGoLine: number;
}
interface DigestCase {
  name: string;
  goFile: string;
  manifests: string[];
  probes: DigestProbe[];
}

/** The suite's default first host-network port (conformance/utils/config); the others follow it. */
const HOST_NETWORK_PORT_BASE = 34345;

const digest = JSON.parse(readFileSync(join(CONFORMANCE, 'cases.json'), 'utf8')) as { cases: DigestCase[] };
const module = networkPolicyApi();

describe('the v0.3.0 conformance digest matches the suite in the module', () => {
  const byFile = new Map<string, DigestCase[]>();
  for (const c of digest.cases) byFile.set(basename(c.goFile), [...(byFile.get(basename(c.goFile)) ?? []), c]);

  it('has 30 cases with distinct names, from the suite\'s test files', () => {
    expect(digest.cases).toHaveLength(30);
    expect(new Set(digest.cases.map((c) => c.name)).size).toBe(30);
    expect(byFile.size).toBe(28); // two files hold two tests each (named ports and node peers)
  });

  for (const c of digest.cases) {
    it(`${c.name}: name, manifests and every PokeServer call (line, client, protocol, port, expectation)`, () => {
      const path = join(module, 'conformance', 'tests', basename(c.goFile));
      const lines = readFileSync(path, 'utf8').split('\n');
      expect(lines.some((l) => l.includes(`ShortName:`) && l.includes(`"${c.name}"`))).toBe(true);
      for (const m of c.manifests) expect(existsSync(join(module, 'conformance', m)), m).toBe(true);

      // Every call in the file belongs to exactly one probe of the cases from that file.
      const calls = lines.flatMap((l, i) => (l.includes('kubernetes.PokeServer(') ? [i + 1] : []));
      const probeLines = byFile.get(basename(c.goFile))!.flatMap((x) => x.probes.map((p) => p.derivedGoLine));
      expect(calls).toEqual(probeLines.sort((a, b) => a - b));
      for (const p of c.probes) {
        // A call spans two lines: the client and protocol, then the server, port and expectation.
        const call = `${lines[p.derivedGoLine - 1]} ${lines[p.derivedGoLine]}`;
        const [ns, pod] = p.from.split('/');
        const where = `${c.name} line ${p.derivedGoLine}`;
        expect(call, where).toContain(`"${ns}", "${pod}", "${p.protocol.toLowerCase()}"`);
        // Host-network servers listen on configurable ports; the digest renders the defaults.
        const port = p.port >= HOST_NETWORK_PORT_BASE ? `int32(s.HostNetworkPorts[${p.port - HOST_NETWORK_PORT_BASE}])` : `int32(${p.port})`;
        expect(call, where).toContain(port);
        expect(call, where).toMatch(new RegExp(`, ${p.expect === 'allow' ? 'true' : 'false'}\\)`));
      }
    });
  }
});
