import type { KubeObject } from '../kinds';
import type { Fact } from './types';

const PRESSURE: Record<string, string> = {
  MemoryPressure: 'NodeMemoryPressure', DiskPressure: 'NodeDiskPressure', PIDPressure: 'NodePIDPressure', NetworkUnavailable: 'NodeNetworkUnavailable',
};

interface Condition { type?: string; status?: string; reason?: string; message?: string; lastTransitionTime?: string }

/** Node facts: not Ready, or under a pressure condition. */
export function nodeFacts(node: KubeObject): Fact[] {
  const facts: Fact[] = [];
  const conds: Condition[] = Array.isArray(node.status?.conditions) ? node.status.conditions : [];
  for (const c of conds) {
    if (c.type === 'Ready' && c.status && c.status !== 'True') {
      facts.push({
        key: 'NotReady', reason: 'NodeNotReady', type: 'Warning', severity: 'error', time: c.lastTransitionTime,
        message: `node is not ready (Ready=${c.status}${c.reason ? `, ${c.reason}` : ''})${c.message ? `: ${c.message}` : ''}`,
        extra: { condition: 'Ready', conditionStatus: c.status },
      });
    } else if (c.type && PRESSURE[c.type] && c.status === 'True') {
      facts.push({
        key: c.type, reason: PRESSURE[c.type], type: 'Warning', severity: 'warn', time: c.lastTransitionTime,
        message: `node reports ${c.type}${c.message ? `: ${c.message}` : ''}`,
        extra: { condition: c.type, conditionStatus: c.status },
      });
    }
  }
  return facts;
}

/** When a fact goes away, nodes say so: NotReady → NodeReady, pressure → …Resolved. */
export function nodeRecovery(factKey: string): { reason: string; message: string } {
  if (factKey === 'NotReady') return { reason: 'NodeReady', message: 'node is ready again' };
  return { reason: `${PRESSURE[factKey] ?? factKey}Resolved`, message: `node no longer reports ${factKey}` };
}
