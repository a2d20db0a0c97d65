import { describe, expect, it } from 'vitest';
import { parseNamespace, parseNode, parsePod } from '../../../src/api/objects.js';
import { slim } from '../../../src/controller/inputs.js';
import type { KubeObject } from '../../../src/controller/port.js';

const pod: KubeObject = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web-0', namespace: 'a', uid: 'u1', resourceVersion: '7', labels: { app: 'web' }, annotations: { big: 'x'.repeat(1000) }, managedFields: [{ manager: 'kubelet' }] },
  spec: { nodeName: 'n1', hostNetwork: false, containers: [{ name: 'web', image: 'nginx', env: [{ name: 'A', value: 'b' }], ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }] }], volumes: [{ name: 'v' }] },
  status: { phase: 'Running', podIP: '10.0.0.1', podIPs: [{ ip: '10.0.0.1' }, { ip: 'fd00::1' }], conditions: [{ type: 'Ready' }] },
};

describe('what the caches keep', () => {
  it('keeps of a pod exactly what policy depends on', () => {
    const small = slim(pod);
    expect(parsePod(small)).toEqual(parsePod(pod));
    expect(JSON.stringify(small).length).toBeLessThan(JSON.stringify(pod).length / 3);
    expect(small.metadata.resourceVersion).toBe('7');
  });

  it('keeps of nodes and namespaces what policy reads: labels and addresses', () => {
    const node: KubeObject = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', labels: { role: 'x' }, annotations: { big: 'y'.repeat(100) } }, status: { addresses: [{ type: 'InternalIP', address: '10.0.0.1' }], images: [{ names: ['a'] }] } };
    expect(parseNode(slim(node))).toEqual(parseNode(node));
    expect(JSON.stringify(slim(node))).not.toContain('images');
    const ns: KubeObject = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a', labels: { team: 'x' }, annotations: { big: 'y' } }, spec: { finalizers: ['kubernetes'] } };
    expect(parseNamespace(slim(ns))).toEqual(parseNamespace(ns));
  });

  it('keeps of managedFields only who manages the object (what ownership is judged by), and everything else', () => {
    const managedFields = [{ manager: 'cnp-operator', operation: 'Update', fieldsV1: { 'f:spec': {} } }, { manager: 'kubectl', operation: 'Update', subresource: 'status', fieldsV1: {} }];
    const gnp: KubeObject = { apiVersion: 'projectcalico.org/v3', kind: 'GlobalNetworkPolicy', metadata: { name: 'x', labels: { a: 'b' }, managedFields }, spec: { order: 1 } };
    expect(slim(gnp)).toEqual({
      ...gnp,
      metadata: { ...gnp.metadata, managedFields: [{ manager: 'cnp-operator', operation: 'Update', subresource: undefined }, { manager: 'kubectl', operation: 'Update', subresource: 'status' }] },
    });
  });
});
