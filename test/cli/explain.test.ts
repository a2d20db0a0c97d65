import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { clusterObjects, loadConformance, stateText } from '../support/conformance.js';
import { cli } from './run.js';

const dir = mkdtempSync(join(tmpdir(), 'cnp-explain-'));

describe('cnp-operator explain --flows on the whole conformance suite', () => {
  for (const c of loadConformance(4)) {
    it(`${c.name}`, () => {
      for (const step of c.steps) {
        if (step.probes.length === 0) continue;
        const input = join(dir, `${c.name.replace(/[^A-Za-z0-9]/g, '_')}-${step.step}.yaml`);
        const flowsFile = `${input}.flows.json`;
        writeFileSync(input, `${clusterObjects(step.snapshot).map((o) => stringify(o)).join('---\n')}---\n${stateText(step)}`);
        const flows = step.probes.map((p) => ({
          from: p.flow.from.kind === 'pod' ? `${p.flow.from.namespace}/${p.flow.from.name}` : p.flow.from.ip,
          to: p.flow.to.kind === 'pod' ? `${p.flow.to.namespace}/${p.flow.to.name}` : p.flow.to.ip,
          port: p.flow.port,
          protocol: p.flow.protocol,
        }));
        writeFileSync(flowsFile, JSON.stringify(flows));
        const run = cli(['explain', '-f', input, '--flows', flowsFile, '-o', 'json']);
        expect(run.stderr).toBe('');
        expect(run.status).toBe(0);
        const verdicts = (JSON.parse(run.stdout) as { verdict: string }[]).map((r) => r.verdict);
        expect(verdicts).toEqual(step.probes.map((p) => p.expect));
      }
    });
  }
});
