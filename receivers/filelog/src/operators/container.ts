import { parseByteSize, type UnifiedEvent } from '@tapio/core';
import { parseRfc3339Nanos } from '../timeparse';
import { Options } from './options';
import { ON_ERROR } from './parser';
import { CONTINUE, failed, HOLD, type FileContext, type Operator, type OperatorEnv, type OnError, type Verdict } from './types';

// CRI (containerd, CRI-O): `<RFC3339Nano time> <stdout|stderr> <P|F> <message>`.
const CRI = /^(\S+) (stdout|stderr) ([PF])(?: ([\s\S]*))?$/;
// kubelet: /var/log/pods/<namespace>_<pod>_<uid>/<container>/<restart>.log (+ rotated suffixes).
const POD_PATH = /\/([a-z0-9]([-a-z0-9]*[a-z0-9])?)_([a-z0-9]([-a-z0-9.]*[a-z0-9])?)_([a-fA-F0-9-]+)\/([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/(\d+)\.log(?:\.[^/]*)?$/;
// The symlinks: /var/log/containers/<pod>_<namespace>_<container>-<container id>.log.
const CONTAINERS_PATH = /\/([a-z0-9]([-a-z0-9.]*[a-z0-9])?)_([a-z0-9]([-a-z0-9]*[a-z0-9])?)_([a-z0-9]([-a-z0-9]*[a-z0-9])?)-([a-f0-9]{64})\.log$/;

/** Kubernetes resource keys from a kubelet log path, or an empty object. */
export function k8sFromPath(path: string): Record<string, string | number> {
  const p = POD_PATH.exec(path);
  if (p) {
    return {
      'k8s.namespace.name': p[1]!, 'k8s.pod.name': p[3]!, 'k8s.pod.uid': p[5]!,
      'k8s.container.name': p[6]!, 'k8s.container.restart_count': Number(p[8]),
    };
  }
  const c = CONTAINERS_PATH.exec(path);
  if (c) return { 'k8s.pod.name': c[1]!, 'k8s.namespace.name': c[3]!, 'k8s.container.name': c[5]!, 'container.id': c[7]! };
  return {};
}

type Format = 'auto' | 'docker' | 'crio' | 'containerd';

/**
 * `container`: Docker JSON-file and CRI (containerd, CRI-O) lines → body, time, `log.iostream`;
 * partial lines (CRI `P`, Docker `log` without a trailing newline) are joined with the rest of
 * the line; Kubernetes metadata from the file path goes into the resource.
 */
export class ContainerParser implements Operator {
  private readonly format: Format;
  private readonly addMetadata: boolean;
  private readonly onError: OnError;
  /** Partial pieces are joined up to this many characters; then the entry is sent as it is. */
  private readonly maxLogSize: number;

  constructor(readonly id: string, o: Options, private readonly env: OperatorEnv) {
    this.format = o.oneOf('format', ['auto', 'docker', 'crio', 'containerd'] as const, 'auto');
    this.addMetadata = o.bool('add_metadata_from_filepath', true);
    this.onError = o.oneOf('on_error', ON_ERROR, 'send');
    const max = o.any('max_log_size');
    this.maxLogSize = max === undefined ? 1024 * 1024 : parseByteSize(max as string | number);
  }

  process(e: UnifiedEvent, file: FileContext): Verdict {
    const line = e.log!.body;
    if (typeof line !== 'string') return failed(this.env, this.id, this.onError, 'body is not a string');
    const docker = this.format === 'docker' || (this.format === 'auto' && line.charCodeAt(0) === 0x7b);
    const verdict = docker ? this.docker(line, e, file) : this.cri(line, e, file);
    if (verdict !== CONTINUE) return verdict;
    if (this.addMetadata) {
      let meta = file.pathResource;
      if (!meta) { meta = k8sFromPath(file.path); file.pathResource = meta; }
      const r = e.resource;
      for (const k in meta) r[k] = meta[k]!;
      // The pod is what a container log line is about (correlation joins on it).
      const pod = meta['k8s.pod.name'];
      if (pod !== undefined) {
        e.entity = { kind: 'pod', name: String(pod), namespace: String(meta['k8s.namespace.name']) };
        if (meta['k8s.pod.uid'] !== undefined) e.entity.uid = String(meta['k8s.pod.uid']);
      }
    }
    return CONTINUE;
  }

  private cri(line: string, e: UnifiedEvent, file: FileContext): Verdict {
    const m = CRI.exec(line);
    if (!m) return failed(this.env, this.id, this.onError, 'not a CRI log line (<time> <stream> <P|F> <message>)');
    const t = parseRfc3339Nanos(m[1]!);
    if (Number.isNaN(t)) return failed(this.env, this.id, this.onError, `bad CRI timestamp "${m[1]}"`);
    return this.join(e, file, m[4] ?? '', t, m[2]!, m[3] === 'P', true);
  }

  private docker(line: string, e: UnifiedEvent, file: FileContext): Verdict {
    let rec: { log?: unknown; stream?: unknown; time?: unknown };
    try { rec = JSON.parse(line) as typeof rec; } catch { return failed(this.env, this.id, this.onError, 'not a Docker JSON log line'); }
    if (typeof rec !== 'object' || rec === null || typeof rec.log !== 'string') return failed(this.env, this.id, this.onError, 'Docker JSON log line without "log"');
    const t = typeof rec.time === 'string' ? parseRfc3339Nanos(rec.time) : NaN;
    const complete = rec.log.endsWith('\n');
    const msg = complete ? rec.log.slice(0, rec.log.endsWith('\r\n') ? -2 : -1) : rec.log;
    return this.join(e, file, msg, t, typeof rec.stream === 'string' ? rec.stream : 'stdout', !complete, false);
  }

  /** Joins partial pieces: the first piece keeps its time and event; later ones append their text. */
  private join(e: UnifiedEvent, file: FileContext, msg: string, t: number, stream: string, partial: boolean, cri: boolean): Verdict {
    const held = file.partial;
    if (held) {
      held.log!.body = (held.log!.body as string) + msg;
      if (partial && (held.log!.body as string).length < this.maxLogSize) return HOLD;
      file.partial = undefined;
      // The finished line is the held event (first piece's time); copy it over the current one.
      e.log!.body = held.log!.body;
      e.time = held.time;
      e.id = held.id;
    } else {
      e.log!.body = msg;
      if (!Number.isNaN(t)) e.time = t;
      if (partial) { file.partial = e; e.attributes['log.iostream'] = stream; return HOLD; }
    }
    e.attributes['log.iostream'] = stream;
    if (cri) e.attributes.logtag = 'F';
    return CONTINUE;
  }
}
