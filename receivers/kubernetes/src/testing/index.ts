export { ApiServerDouble, type ApiServerDoubleOptions, type RecordedRequest } from './apiserver';
export { hasK8sObjects, k8sObjectsDir, loadFixture, substituteNow } from './fixtures';
export { matchesFieldSelector, matchesLabelSelector } from './selectors';
export { ClusterHarness, DoubleHarness, RealClusterHarness, openHarness } from './harness';
