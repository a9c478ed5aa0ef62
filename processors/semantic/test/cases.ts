import { testEvent } from '@tapio/core/testing';
import type { Attributes, UnifiedEvent } from '@tapio/core';

/**
 * Realistic inputs for every shipped rule: a positive (the last event of the list must match the
 * rule) and a near miss that looks alike but must not get the rule's intent.
 */
export interface RuleCase {
  rule: string;
  positive: () => UnifiedEvent[];
  negative: () => UnifiedEvent[];
  /** The positive's narrative must match this. */
  narrative?: RegExp;
}

const POD = { 'k8s.namespace.name': 'prod', 'k8s.pod.name': 'payment-7d8f9', 'k8s.container.name': 'payment', 'k8s.deployment.name': 'payment', 'service.name': 'payment' };
const T0 = Date.UTC(2026, 10, 22, 10, 0, 0) * 1e6;

function k8s(reason: string, message: string, type = 'Warning', entity: UnifiedEvent['entity'] = { kind: 'pod', name: 'payment-7d8f9', namespace: 'prod' }, resource: Attributes = POD): UnifiedEvent {
  return testEvent('k8s', { time: T0, resource: { ...resource }, entity, k8s: { reason, message, type } });
}
/** A derived event as the kubernetes receiver emits it (`k8s.derived: true`, extra facts in the payload). */
function derived(reason: string, message: string, extra: Record<string, unknown>, type = 'Warning'): UnifiedEvent {
  const e = k8s(reason, message, type);
  Object.assign(e.k8s!, { derived: true, objectKind: 'Pod', count: 1, ...extra });
  return e;
}
function node(reason: string, message: string, type = 'Warning'): UnifiedEvent {
  return k8s(reason, message, type, { kind: 'node', name: 'node-a' }, { 'k8s.node.name': 'node-a' });
}
function kern(payload: Record<string, unknown>): UnifiedEvent {
  return testEvent('kernel', { time: T0, resource: { ...POD, 'host.name': 'node-a' }, kernel: { event: 'x', ...payload } as never });
}
function net(event: string, extra: Record<string, unknown> = {}, time = T0): UnifiedEvent {
  return testEvent('network', {
    time, resource: { ...POD }, attributes: { 'tapio.peer.service': 'postgres' },
    network: { event, srcAddr: '10.1.4.17', srcPort: 40112, dstAddr: '10.96.0.40', dstPort: 5432, ...extra },
  });
}
function span(attributes: Attributes, over: Partial<NonNullable<UnifiedEvent['span']>> = {}, resource: Attributes = POD): UnifiedEvent {
  const e = testEvent('span', { time: T0, resource: { ...resource }, attributes });
  Object.assign(e.span!, over);
  return e;
}
function log(body: string, attributes: Attributes = {}): UnifiedEvent {
  return testEvent('log', { time: T0, resource: { ...POD }, attributes, log: { body, severityText: 'ERROR', severityNumber: 17 } });
}
function metric(name: string, value: number): UnifiedEvent {
  return testEvent('metric', { time: T0, resource: { ...POD }, metric: { name, type: 'gauge', value } });
}

export const CASES: RuleCase[] = [
  // ---- Kubernetes ----
  {
    rule: 'k8s.oom_killed',
    positive: () => [k8s('OOMKilled', 'Container payment exceeded its 2Gi memory limit and was OOM-killed (exit code 137)')],
    negative: () => [k8s('Killing', 'Stopping container payment', 'Normal')],
    narrative: /^Pod payment-7d8f9 OOM-killed: container payment exceeded its 2Gi memory limit$/,
  },
  {
    rule: 'k8s.crash_loop',
    positive: () => [k8s('BackOff', 'Back-off restarting failed container payment in pod payment-7d8f9_prod(6b1f3c2e-8d4a-4f1b-9c3e-2a7d5e9f0b11)')],
    negative: () => [k8s('BackOff', 'Back-off pulling image "registry.example.com/payment:1.4.3"')],
    narrative: /crash-looping: container payment keeps failing/,
  },
  {
    rule: 'k8s.image_pull_failure',
    positive: () => [k8s('Failed', 'Failed to pull image "registry.example.com/payment:1.4.3": rpc error: code = NotFound desc = failed to pull and unpack image: not found')],
    negative: () => [k8s('Pulled', 'Successfully pulled image "registry.example.com/payment:1.4.2" in 1.2s (1.2s including waiting)', 'Normal')],
    narrative: /cannot pull image registry.example.com\/payment:1.4.3$/,
  },
  {
    rule: 'k8s.scheduling_failure',
    positive: () => [k8s('FailedScheduling', '0/5 nodes are available: 3 Insufficient memory, 2 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }. preemption: 0/5 nodes are available: 2 Preemption is not helpful for scheduling, 3 No preemption victims found for incoming pod.')],
    negative: () => [k8s('Scheduled', 'Successfully assigned prod/payment-7d8f9 to node-a', 'Normal')],
    narrative: /cannot be scheduled: 0\/5 nodes available \(3 Insufficient memory\)/,
  },
  {
    rule: 'k8s.container_restart',
    positive: () => [derived('ContainerRestarted', 'container payment restarted (restart count 3 → 4), last termination: OOMKilled', { containerName: 'payment', restartCount: 4, previousRestartCount: 3, lastTerminationReason: 'OOMKilled' })],
    negative: () => [derived('PodReady', 'pod is ready', { ready: true }, 'Normal')],
    narrative: /^Container payment of pod payment-7d8f9 restarted \(restart count 4\), last termination: OOMKilled$/,
  },
  {
    rule: 'k8s.scheduling_failure',
    positive: () => [derived('PodPending', '0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.', { pendingReason: 'Unschedulable' })],
    negative: () => [derived('PodPending', 'pod has been Pending for 320s: ContainerCreating', { pendingReason: 'ContainerCreating' })],
    narrative: /cannot be scheduled: 0\/3 nodes available \(3 Insufficient cpu\)/,
  },
  {
    rule: 'k8s.eviction',
    positive: () => [k8s('Evicted', 'The node was low on resource: memory. Threshold quantity: 100Mi, available: 91284Ki. Container payment was using 1843Mi, request is 512Mi, has larger consumption of memory.')],
    negative: () => [node('EvictionThresholdMet', 'Attempting to reclaim memory')],
    narrative: /was evicted from node|the node was low on memory/,
  },
  {
    rule: 'k8s.memory_pressure',
    positive: () => [node('NodeHasInsufficientMemory', 'Node node-a status is now: NodeHasInsufficientMemory', 'Normal')],
    negative: () => [node('NodeHasSufficientMemory', 'Node node-a status is now: NodeHasSufficientMemory', 'Normal')],
    narrative: /^Node node-a is under memory pressure/,
  },
  {
    rule: 'k8s.node_not_ready',
    positive: () => [node('NodeNotReady', 'Node node-a status is now: NodeNotReady', 'Normal')],
    negative: () => [node('NodeReady', 'Node node-a status is now: NodeReady', 'Normal')],
    narrative: /^Node node-a is NotReady/,
  },
  {
    rule: 'k8s.mount_failure',
    positive: () => [k8s('FailedMount', 'MountVolume.SetUp failed for volume "pvc-3f2a" : rpc error: code = DeadlineExceeded desc = context deadline exceeded')],
    negative: () => [k8s('SuccessfulAttachVolume', 'AttachVolume.Attach succeeded for volume "pvc-3f2a"', 'Normal')],
    narrative: /cannot mount volume pvc-3f2a/,
  },
  {
    rule: 'k8s.probe_failure',
    positive: () => [k8s('Unhealthy', 'Readiness probe failed: Get "http://10.1.4.17:8080/healthz": context deadline exceeded (Client.Timeout exceeded while awaiting headers)')],
    negative: () => [k8s('ProbeWarning', 'Readiness probe warning: Get "http://10.1.4.17:8080/healthz": redirect not followed')],
    narrative: /^Readiness probe of pod payment-7d8f9 failed: Get/,
  },
  {
    rule: 'k8s.deployment_rollout',
    positive: () => [k8s('ScalingReplicaSet', 'Scaled up replica set payment-5c9d7 to 1', 'Normal', { kind: 'deployment', name: 'payment', namespace: 'prod' })],
    negative: () => [k8s('SuccessfulCreate', 'Created pod: payment-5c9d7-abcde', 'Normal', { kind: 'replicaset', name: 'payment-5c9d7', namespace: 'prod' })],
    narrative: /^Deployment payment: Scaled up replica set/,
  },
  // ---- kernel ----
  {
    rule: 'kernel.oom_kill',
    positive: () => [kern({ event: 'oom_kill', pid: 31337, comm: 'java', memoryLimit: 2147483648 })],
    negative: () => [kern({ event: 'process_exit', pid: 31337, comm: 'java', exitCode: 1, signal: 0 })],
    narrative: /^Process java \(pid 31337\) OOM-killed by the kernel in pod payment-7d8f9: cgroup memory limit 2Gi$/,
  },
  {
    rule: 'kernel.process_killed',
    positive: () => [kern({ event: 'process_exit', pid: 4242, comm: 'payment', exitCode: 137, signal: 9 })],
    negative: () => [kern({ event: 'process_exit', pid: 4242, comm: 'payment', exitCode: 143, signal: 15 })],
  },
  {
    rule: 'kernel.memory_allocation_failure',
    positive: () => [kern({ event: 'syscall_error', pid: 4242, comm: 'payment', syscall: 'mmap', errno: 12, errnoName: 'ENOMEM', lengthBytes: 268435456 })],
    negative: () => [kern({ event: 'syscall_error', pid: 4242, comm: 'payment', syscall: 'mmap', errno: 'EACCES' })],
    narrative: /^mmap of 256Mi failed with ENOMEM in payment \(pid 4242\) in pod payment-7d8f9/,
  },
  {
    rule: 'kernel.disk_full',
    // As the ebpf receiver reports it: errno as a number, errnoName beside it.
    positive: () => [kern({ event: 'syscall_error', pid: 77, comm: 'postgres', syscall: 'write', errno: 28, errnoName: 'ENOSPC', path: '/var/lib/postgresql/data' })],
    negative: () => [kern({ event: 'syscall_error', pid: 77, comm: 'postgres', syscall: 'write', errno: 11, errnoName: 'EAGAIN' })],
    narrative: /^write failed with ENOSPC in postgres \(pod payment-7d8f9\) on \/var\/lib\/postgresql\/data/,
  },
  // ---- network ----
  {
    rule: 'network.connection_refused',
    positive: () => [net('connection_refused')],
    negative: () => [net('connection_established')],
    narrative: /^Connection to postgres:5432 refused \(from pod payment-7d8f9\)/,
  },
  {
    rule: 'network.connection_reset',
    positive: () => [net('connection_reset')],
    negative: () => [net('connection_closed')],
  },
  {
    rule: 'network.retransmit_storm',
    positive: () => Array.from({ length: 20 }, (_, i) => net('retransmit', {}, T0 + i * 100e6)),
    negative: () => Array.from({ length: 20 }, (_, i) => net('retransmit', {}, T0 + i * 5e9)),
    narrative: /retransmit storm towards postgres:5432/,
  },
  // ---- application: spans ----
  {
    rule: 'app.http_5xx',
    positive: () => [span({ 'http.request.method': 'POST', 'http.route': '/api/pay', 'http.response.status_code': 503 }, { status: { code: 2 } })],
    negative: () => [span({ 'http.request.method': 'POST', 'http.route': '/api/pay', 'http.response.status_code': 429 })],
    narrative: /^payment answered HTTP 503 on POST \/api\/pay$/,
  },
  {
    rule: 'app.grpc_unavailable',
    positive: () => [span({ 'rpc.system': 'grpc', 'rpc.service': 'ledger.Ledger', 'rpc.method': 'Post', 'rpc.grpc.status_code': 14 }, { status: { code: 2, message: 'upstream connect error' } })],
    negative: () => [span({ 'rpc.system': 'grpc', 'rpc.service': 'ledger.Ledger', 'rpc.method': 'Post', 'rpc.grpc.status_code': 5 })],
    narrative: /^gRPC ledger.Ledger\/Post from payment failed: UNAVAILABLE \(upstream connect error\)$/,
  },
  {
    rule: 'app.grpc_deadline_exceeded',
    positive: () => [span({ 'rpc.system': 'grpc', 'rpc.service': 'fraud.Scorer', 'rpc.method': 'Score', 'rpc.grpc.status_code': 4 }, { durationMs: 2000 })],
    negative: () => [span({ 'rpc.system': 'grpc', 'rpc.service': 'fraud.Scorer', 'rpc.method': 'Score', 'rpc.grpc.status_code': 1 })],
    narrative: /exceeded its deadline after 2.0 s/,
  },
  {
    rule: 'app.database_timeout_span',
    positive: () => [span({ 'db.system': 'postgresql', 'db.statement': 'UPDATE accounts SET …', 'server.address': 'postgres.prod' }, { kind: 3, durationMs: 30000, status: { code: 2, message: 'canceling statement due to statement timeout' } })],
    negative: () => [span({ 'db.system': 'postgresql', 'server.address': 'postgres.prod' }, { kind: 3, status: { code: 2, message: 'duplicate key value violates unique constraint "payments_pkey"' } })],
    narrative: /^postgresql call from payment timed out after 30 s/,
  },
  {
    rule: 'app.latency_slo_breach',
    positive: () => [span({ 'http.route': '/api/pay' }, { name: 'POST /api/pay', kind: 2, durationMs: 1450 })],
    negative: () => [span({ 'http.route': '/api/pay' }, { name: 'POST /api/pay', kind: 2, durationMs: 950 })],
    narrative: /^POST \/api\/pay on payment took 1.4 s, above its latency SLO$/,
  },
  {
    rule: 'app.connection_refused_span',
    positive: () => [span({ 'server.address': 'postgres.prod', 'db.system': 'postgresql' }, { kind: 3, status: { code: 2, message: 'connect ECONNREFUSED 10.96.0.40:5432' } })],
    negative: () => [span({ 'server.address': 'postgres.prod' }, { kind: 3, status: { code: 2, message: 'invalid card number' } })],
    narrative: /could not connect to postgres.prod: connection refused/,
  },
  {
    rule: 'app.cpu_throttling',
    positive: () => [metric('container.cpu.throttling_ratio', 0.42)],
    negative: () => [metric('container.cpu.throttling_ratio', 0.05)],
    narrative: /CPU-throttled \(container.cpu.throttling_ratio = 0.42\)/,
  },
  // ---- application: logs ----
  {
    rule: 'log.oom_kill',
    positive: () => [log('Memory cgroup out of memory: Killed process 31337 (java) total-vm:4391244kB, anon-rss:2097152kB, file-rss:0kB, shmem-rss:0kB, UID:1000 pgtables:4412kB oom_score_adj:936')],
    negative: () => [log('oom_score_adj set to -998 for process 77 (postgres)')],
    narrative: /process java \(pid 31337\)/,
  },
  {
    rule: 'log.connection_refused',
    positive: () => [log('Error: connect ECONNREFUSED 10.96.0.40:5432\n    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1555:16)')],
    negative: () => [log('connection established to 10.96.0.40:5432 after 2 retries')],
  },
  {
    rule: 'log.connection_reset',
    positive: () => [log('read tcp 10.1.4.17:40112->10.96.0.40:5432: read: connection reset by peer')],
    negative: () => [log('Connection pool reset after config reload (max=20)')],
  },
  {
    rule: 'log.dns_failure',
    positive: () => [log('dial tcp: lookup ledger.prod.svc.cluster.local on 10.96.0.10:53: no such host')],
    negative: () => [log('resolved host ledger.prod.svc.cluster.local to 10.96.0.55 in 2ms')],
    narrative: /could not resolve ledger.prod.svc.cluster.local/,
  },
  {
    rule: 'log.tls_error',
    positive: () => [log('x509: certificate has expired or is not yet valid: current time 2026-11-22T10:00:00Z is after 2026-11-20T00:00:00Z')],
    negative: () => [log('TLS certificate for api.example.com renewed, valid until 2027-02-20')],
  },
  {
    rule: 'log.disk_full',
    positive: () => [log('PANIC: could not write to file "pg_wal/xlogtemp.123": No space left on device')],
    negative: () => [log('disk usage 45% on /var/lib/postgresql/data, 120GB free')],
  },
  {
    rule: 'log.memory_allocation_failure',
    positive: () => [log('FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory')],
    negative: () => [log('allocated 2048 buffers in the connection pool (64 MiB)')],
  },
  {
    rule: 'log.grpc_errors',
    positive: () => [log('rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing"')],
    negative: () => [log('grpc server listening on :9090, health status SERVING')],
  },
  {
    rule: 'log.grpc_deadline_exceeded',
    positive: () => [log('failed to score payment: rpc error: code = DeadlineExceeded desc = context deadline exceeded')],
    negative: () => [log('grpc deadline set to 2s for fraud.Scorer/Score')],
  },
  {
    rule: 'app.database_timeout_log',
    positive: () => [log('ERROR: canceling statement due to statement timeout (SQLSTATE 57014)')],
    negative: () => [log('database query completed in 12ms (timeout 5s)')],
  },
  {
    rule: 'log.exception',
    positive: () => [log('java.lang.IllegalStateException: payment already captured\n\tat com.example.pay.Capture.run(Capture.java:88)\n\tat java.base/java.lang.Thread.run(Thread.java:1583)')],
    negative: () => [log('processed 120 payments, 0 exceptions, 0 errors in the last minute')],
    narrative: /^payment threw java.lang.IllegalStateException: payment already captured$/,
  },
];
