import { describe, expect, it } from 'vitest';
import { Metrics } from '../../../src/controller/runtime/metrics.js';

describe('Metrics', () => {
  it('exposes controller-runtime names, the leader gauge and custom metrics on one registry', async () => {
    const m = new Metrics();
    m.workQueue('cnp').queued(0.002);
    m.controller('cnp');
    const leading = m.leaderElection('cnp-operator');
    leading(true);
    const drift = m.counter('cnp_drift_corrections_total', 'Backend objects reverted after foreign changes', ['kind']);
    drift.inc({ kind: 'GlobalNetworkPolicy' });
    m.gauge('cnp_managed_objects', 'Backend objects the operator manages').set(7);
    const { contentType, body } = await m.expose();
    expect(contentType).toMatch(/^text\/plain/);
    for (const name of [
      'controller_runtime_reconcile_total',
      'controller_runtime_reconcile_errors_total',
      'controller_runtime_reconcile_time_seconds',
      'controller_runtime_active_workers',
      'workqueue_depth',
      'workqueue_adds_total',
      'workqueue_retries_total',
      'workqueue_queue_duration_seconds',
      'workqueue_work_duration_seconds',
      'leader_election_master_status',
      'process_resident_memory_bytes',
    ]) {
      expect(body).toContain(`# TYPE ${name} `);
    }
    expect(body).toContain('leader_election_master_status{name="cnp-operator"} 1');
    expect(body).toContain('cnp_drift_corrections_total{kind="GlobalNetworkPolicy"} 1');
    expect(body).toContain('cnp_managed_objects 7');
    // client-go's buckets, 10 ns to 1000 s by factors of ten.
    expect(body).toContain('workqueue_queue_duration_seconds_bucket{le="1e-8",name="cnp",controller="cnp"} 0');
    expect(body).toContain('workqueue_queue_duration_seconds_bucket{le="0.01",name="cnp",controller="cnp"} 1');
    expect(body).toContain('workqueue_queue_duration_seconds_bucket{le="1000",name="cnp",controller="cnp"} 1');
  });

  it('keeps separate registries apart', async () => {
    const a = new Metrics({ processMetrics: false });
    const b = new Metrics({ processMetrics: false });
    a.controller('x').reconciled('success', 0.1);
    expect(await b.registry.metrics()).not.toContain('controller="x"');
  });
});
