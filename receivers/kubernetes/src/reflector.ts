import type { IncomingMessage } from 'node:http';
import { ApiError, statusError, readAll, type KubeApi } from './client';
import { Backoff, sleep, type BackoffSettings } from './backoff';
import { apiVersionOf, collectionPath, type KubeObject, type ResourceKind } from './kinds';

export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** Where a reflector delivers object changes. `apply` is synchronous and cheap; `flush` pushes what it produced. */
export interface ReflectorSink {
  apply(kind: ResourceKind, type: ChangeType, obj: KubeObject, old: KubeObject | undefined, initial: boolean): void;
  flush(): Promise<void>;
}

export interface ReflectorOptions {
  kind: ResourceKind;
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  pageSize: number;
  /** Server-side watch timeout; each watch asks for a random value in [t, 2t) as client-go does. */
  watchTimeoutSeconds: number;
  backoff: BackoffSettings;
  onError?: (err: Error, phase: 'list' | 'watch') => void;
  /** Called after every successful (re-)list with the number of objects. */
  onListed?: (count: number, relist: boolean) => void;
  /** Called when a watch delivers again after errors. */
  onRecovered?: () => void;
}

interface WatchEvent { type: string; object: KubeObject }

/**
 * List + watch for one collection with the real protocol: paginated list (limit/continue), watch
 * from the list's resourceVersion with bookmarks, resume from the last seen resourceVersion after a
 * dropped connection or a server timeout, re-list on 410 Gone, backoff with jitter on errors.
 * A local store (one slim copy per object) lets a re-list be diffed against what was already
 * delivered, so nothing is delivered twice and deletions missed during an outage are still seen.
 */
export class Reflector {
  readonly store = new Map<string, KubeObject>();
  /** The resourceVersion a watch resumes from. */
  lastResourceVersion = '';
  private readonly abort = new AbortController();
  private loop?: Promise<void>;
  private listedOnce = false;
  private failing = false;
  private readonly backoff: Backoff;
  /** Counters for tests and self-telemetry. */
  readonly stats = { lists: 0, watches: 0, relistsAfterGone: 0, resumes: 0, bookmarks: 0, errors: 0 };
  private synced!: Promise<void>;
  private markSynced!: () => void;

  constructor(private readonly api: KubeApi, private readonly o: ReflectorOptions, private readonly sink: ReflectorSink) {
    this.backoff = new Backoff(o.backoff);
    this.synced = new Promise((resolve) => { this.markSynced = resolve; });
  }

  get kind(): ResourceKind { return this.o.kind; }

  get path(): string { return collectionPath(this.o.kind, this.o.namespace); }

  /** True between an error and the next successful list or watch delivery. */
  get isFailing(): boolean { return this.failing; }

  start(): void { this.loop ??= this.run(); }

  /** Resolves once the first list has been delivered (or the reflector stopped). */
  whenSynced(): Promise<void> { return this.synced; }

  async stop(): Promise<void> {
    this.abort.abort();
    this.markSynced();
    await this.loop;
  }

  /**
   * What the store keeps: the object, except for Events — many, short-lived, never diffed field by
   * field — of which only the identity and resourceVersion are needed to tell news on a re-list.
   */
  private kept(o: KubeObject): KubeObject {
    if (this.o.kind.kind !== 'Event') return o;
    return { kind: o.kind, apiVersion: o.apiVersion, metadata: { name: o.metadata.name, namespace: o.metadata.namespace, uid: o.metadata.uid, resourceVersion: o.metadata.resourceVersion } };
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    let needList = true;
    while (!signal.aborted) {
      try {
        if (needList) { await this.list(signal); needList = false; this.backoff.reset(); }
        const outcome = await this.watch(signal);
        if (outcome === 'gone') { needList = true; this.stats.relistsAfterGone++; continue; }
        // A clean end (server timeout): resume right away from the last resourceVersion.
        this.stats.resumes++;
      } catch (err) {
        if (signal.aborted) break;
        const e = err as Error;
        if (e instanceof ApiError && e.code === 410) { needList = true; this.stats.relistsAfterGone++; continue; }
        this.stats.errors++;
        this.failing = true;
        this.o.onError?.(e, needList ? 'list' : 'watch');
        if (!needList) this.stats.resumes++;
        await sleep(this.backoff.next(), signal);
      }
    }
  }

  private async list(signal: AbortSignal): Promise<void> {
    const seen = new Map<string, KubeObject>();
    let cont: string | undefined;
    let rv = '';
    do {
      const page = await this.api.json<{ metadata: { resourceVersion: string; continue?: string }; items: KubeObject[] }>('GET', this.path, {
        limit: String(this.o.pageSize), continue: cont, labelSelector: this.o.labelSelector, fieldSelector: this.o.fieldSelector,
      }, undefined, signal);
      rv = page.metadata.resourceVersion;
      cont = page.metadata.continue || undefined;
      for (const item of page.items ?? []) {
        // List items carry neither kind nor apiVersion; watch events do. Make them alike.
        item.kind = this.o.kind.kind;
        item.apiVersion = apiVersionOf(this.o.kind);
        const obj = slim(item);
        const key = keyOf(obj);
        seen.set(key, obj);
        const old = this.store.get(key);
        if (!old) this.sink.apply(this.o.kind, 'ADDED', obj, undefined, !this.listedOnce);
        else if (old.metadata.resourceVersion !== obj.metadata.resourceVersion) this.sink.apply(this.o.kind, 'MODIFIED', obj, old, false);
        this.store.set(key, this.kept(obj));
      }
      await this.sink.flush();
    } while (cont && !signal.aborted);
    // Whatever was there before and is not in the fresh list was deleted while we were not watching.
    for (const [key, old] of this.store) {
      if (!seen.has(key)) { this.store.delete(key); this.sink.apply(this.o.kind, 'DELETED', old, old, false); }
    }
    await this.sink.flush();
    this.lastResourceVersion = rv;
    this.stats.lists++;
    this.o.onListed?.(seen.size, this.listedOnce);
    if (this.failing) { this.failing = false; this.o.onRecovered?.(); }
    this.listedOnce = true;
    this.markSynced();
  }

  /** One watch request. 'gone' asks for a re-list; 'ended' for a resume; errors throw. */
  private async watch(signal: AbortSignal): Promise<'gone' | 'ended'> {
    const timeout = this.o.watchTimeoutSeconds * (1 + Math.random());
    this.stats.watches++;
    const res = await this.api.open('GET', this.path, {
      watch: 'true', resourceVersion: this.lastResourceVersion, allowWatchBookmarks: 'true',
      timeoutSeconds: String(Math.floor(timeout)), labelSelector: this.o.labelSelector, fieldSelector: this.o.fieldSelector,
    }, undefined, signal);
    if (res.statusCode !== 200) throw statusError(res.statusCode ?? 0, await readAll(res));
    // A half-open connection sends nothing and never ends: give up a while after the server should have closed it.
    const guard = setTimeout(() => res.destroy(new Error('watch stalled past its timeout')), (timeout + 30) * 1000);
    try {
      return await this.consumeStream(res);
    } finally {
      clearTimeout(guard);
    }
  }

  private async consumeStream(res: IncomingMessage): Promise<'gone' | 'ended'> {
    let buffered = '';
    res.setEncoding('utf8');
    for await (const chunk of res as AsyncIterable<string>) {
      buffered += chunk;
      let nl: number;
      let delivered = false;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (!line.trim()) continue;
        let ev: WatchEvent;
        try { ev = JSON.parse(line) as WatchEvent; } catch { this.o.onError?.(new Error(`unparseable watch line: ${line.slice(0, 120)}`), 'watch'); continue; }
        const outcome = this.handleEvent(ev);
        if (outcome === 'gone') { res.destroy(); return 'gone'; }
        if (outcome === 'error') { res.destroy(); throw watchError(ev.object); }
        delivered = true;
      }
      if (delivered) {
        this.backoff.reset();
        if (this.failing) { this.failing = false; this.o.onRecovered?.(); }
        await this.sink.flush();
      }
    }
    return 'ended';
  }

  private handleEvent(ev: WatchEvent): 'ok' | 'gone' | 'error' {
    const obj = ev.object;
    switch (ev.type) {
      case 'BOOKMARK':
        this.lastResourceVersion = obj?.metadata?.resourceVersion ?? this.lastResourceVersion;
        this.stats.bookmarks++;
        return 'ok';
      case 'ERROR': {
        const code = (obj as unknown as { code?: number })?.code;
        return code === 410 ? 'gone' : 'error';
      }
      case 'ADDED': case 'MODIFIED': case 'DELETED': {
        if (!obj?.metadata) return 'ok';
        obj.kind ??= this.o.kind.kind;
        obj.apiVersion ??= apiVersionOf(this.o.kind);
        const cur = slim(obj);
        const key = keyOf(cur);
        const old = this.store.get(key);
        if (ev.type === 'DELETED') {
          this.store.delete(key);
          if (old) this.sink.apply(this.o.kind, 'DELETED', cur, old, false);
        } else if (!old || old.metadata.resourceVersion !== cur.metadata.resourceVersion) {
          this.store.set(key, this.kept(cur));
          this.sink.apply(this.o.kind, old ? 'MODIFIED' : 'ADDED', cur, old, false);
        }
        if (cur.metadata.resourceVersion) this.lastResourceVersion = cur.metadata.resourceVersion;
        return 'ok';
      }
      default:
        return 'ok';
    }
  }
}

function keyOf(o: KubeObject): string { return `${o.metadata.namespace ?? ''}/${o.metadata.name}`; }

function watchError(status: unknown): ApiError {
  const s = (status ?? {}) as { code?: number; message?: string; reason?: string };
  return new ApiError(s.code ?? 500, `watch error: ${s.message ?? 'unknown'}`, s.reason);
}

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** Drops what the receiver never reads and what makes objects big (managedFields, last-applied). */
function slim(o: KubeObject): KubeObject {
  if (o.metadata.managedFields) delete o.metadata.managedFields;
  if (o.metadata.annotations?.[LAST_APPLIED]) delete o.metadata.annotations[LAST_APPLIED];
  return o;
}
