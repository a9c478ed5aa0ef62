export { runCli, type CliIO } from './main';
export { ApiClient, ApiError, type ClientOptions } from './client';
export { formatCorrelation, formatEventLine, formatIncident, formatIncidentList } from './format';
export { appsApi, planAction, type Change, type Plan } from './kube';
