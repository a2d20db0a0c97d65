import { ESLint } from 'eslint';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from '../support/paths.js';

// The pure core's boundary is a lint rule; this proves the rule bites.
const probe = `import { readFileSync } from 'node:fs';
import * as k8s from '@kubernetes/client-node';
import { createKubePort } from '../kube/index.js';
export const leak = () => [readFileSync, k8s, createKubePort, process.env, console.log, Date.now()];
`;

describe('import boundaries of the pure core', () => {
  const eslint = new ESLint({ cwd: REPO });

  it.each(['src/api/probe.ts', 'src/semantics/probe.ts', 'src/translate/calico/probe.ts'])('%s may not do I/O, use the client, read the environment, log or read the clock', async (file) => {
    const [result] = await eslint.lintText(probe, { filePath: join(REPO, file) });
    const rules = result!.messages.map((m) => m.ruleId);
    expect(rules.filter((r) => r === 'no-restricted-imports')).toHaveLength(3);
    expect(rules.filter((r) => r === 'no-restricted-globals')).toHaveLength(2);
    expect(rules).toContain('no-restricted-properties');
  });

  it('the impure layers may', async () => {
    const [result] = await eslint.lintText(probe, { filePath: join(REPO, 'src/controller/probe.ts') });
    expect(result!.messages.filter((m) => m.ruleId?.startsWith('no-restricted'))).toEqual([]);
  });
});
