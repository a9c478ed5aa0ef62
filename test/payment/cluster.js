'use strict';
// The scenario's Kubernetes objects, served by the API server double of @tapio/receiver-kubernetes:
// the database stand-in is the recorded OOMKilled pod (Pod/oomkilled-unhealthy.yaml: its uid and
// container id, spec and status shape), the payment service the recorded healthy pod
// (Pod/healthy.yaml), each given a namespace, an app label, a ReplicaSet → Deployment owner chain,
// a Service, and the address the process really listens on.
const NAMESPACE = 'payments';

function stripRuntime(id) { return String(id).replace(/^[a-z]+:\/\//, ''); }
function rfc3339(ms) { return new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z'); }

function owned(app, hash) {
  const rs = {
    apiVersion: 'apps/v1', kind: 'ReplicaSet',
    metadata: { name: `${app}-${hash}`, namespace: NAMESPACE, labels: { app, 'pod-template-hash': hash }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: app, uid: `${app}-deployment-uid`, controller: true }] },
    spec: { replicas: 1, selector: { matchLabels: { app, 'pod-template-hash': hash } } },
    status: { replicas: 1, readyReplicas: 1, availableReplicas: 1 },
  };
  const deployment = {
    apiVersion: 'apps/v1', kind: 'Deployment',
    metadata: { name: app, namespace: NAMESPACE, uid: `${app}-deployment-uid`, labels: { app } },
    spec: { replicas: 1, selector: { matchLabels: { app } } },
    status: { replicas: 1, readyReplicas: 1, availableReplicas: 1, updatedReplicas: 1, observedGeneration: 1 },
  };
  const service = {
    apiVersion: 'v1', kind: 'Service',
    metadata: { name: app, namespace: NAMESPACE, labels: { app } },
    spec: { selector: { app }, ports: [{ port: 80, protocol: 'TCP' }] },
  };
  return { rs, deployment, service };
}

/** Turns a recorded pod into one of ours: new identity, healthy running status at `nowMs`. */
function reidentify(recorded, { name, app, hash, containerName, ip, memoryLimit, nowMs, uid, containerId }) {
  const pod = structuredClone(recorded);
  pod.metadata = {
    uid: uid ?? pod.metadata.uid, name, namespace: NAMESPACE, labels: { app, 'pod-template-hash': hash },
    ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${app}-${hash}`, uid: `${app}-rs-uid`, controller: true }],
  };
  const c = pod.spec.containers[0];
  c.name = containerName;
  pod.spec.containers = [c];
  if (memoryLimit) c.resources = { limits: { memory: `${Math.round(memoryLimit / 1048576)}Mi` }, requests: { memory: `${Math.round(memoryLimit / 2097152)}Mi` } };
  delete pod.spec.initContainers;
  const recordedStatus = pod.status.containerStatuses[0];
  const cid = containerId ?? stripRuntime(recordedStatus.containerID);
  pod.status = {
    ...pod.status, phase: 'Running', podIP: ip, podIPs: [{ ip }], startTime: rfc3339(nowMs - 60_000),
    conditions: ['Initialized', 'PodReadyToStartContainers', 'ContainersReady', 'PodScheduled', 'Ready'].map((type) => ({ type, status: 'True', lastTransitionTime: rfc3339(nowMs - 55_000) })),
    containerStatuses: [{
      name: containerName, image: recordedStatus.image, imageID: recordedStatus.imageID, ready: true, started: true,
      state: { running: { startedAt: rfc3339(nowMs - 55_000) } }, lastState: {},
      containerID: `containerd://${cid}`, restartCount: recordedStatus.restartCount ?? 0,
    }],
  };
  return { pod, podUid: pod.metadata.uid, containerId: cid };
}

/** The pod after the kernel OOM-killed its only container at `killedMs` (not restarted yet). */
function oomKilled(pod, killedMs) {
  const next = structuredClone(pod);
  const cs = next.status.containerStatuses[0];
  // The kubelet notices after the kernel: finishedAt is the next whole second (RFC 3339 has no fraction here).
  const finished = Math.ceil(killedMs / 1000) * 1000;
  cs.ready = false;
  cs.started = false;
  cs.state = { terminated: { reason: 'OOMKilled', exitCode: 137, startedAt: cs.state.running.startedAt, finishedAt: rfc3339(finished), containerID: cs.containerID } };
  for (const c of next.status.conditions) {
    if (c.type === 'Ready' || c.type === 'ContainersReady') {
      Object.assign(c, { status: 'False', reason: 'ContainersNotReady', message: `containers with unready status: [${cs.name}]`, lastTransitionTime: rfc3339(finished) });
    }
  }
  return next;
}

module.exports = { NAMESPACE, owned, reidentify, oomKilled };
