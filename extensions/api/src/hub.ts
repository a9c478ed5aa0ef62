/**
 * Live fan-out to stream clients (SSE and gRPC). Each client has a bounded queue: when it
 * cannot keep up (its socket is back-pressured) the oldest queued items are dropped and
 * counted, so one slow or stalled client costs at most `capacity` items of memory and never
 * slows the others or the pipeline.
 */
export interface StreamSink<T> {
  /** Writes items; returns false when the transport is back-pressured (call resume() on drain). */
  write(items: T[]): boolean;
}

export class Subscriber<T> {
  private readonly ring: (T | undefined)[];
  private head = 0;
  private size = 0;
  private writable = true;
  /** Items dropped for this client because it was too slow. */
  dropped = 0;
  delivered = 0;
  closed = false;

  constructor(
    readonly accept: (item: T) => boolean,
    private readonly sink: StreamSink<T>,
    readonly capacity: number,
    private readonly onDrop: (n: number) => void,
    /** Most items handed to one sink.write call. */
    private readonly maxChunk = 256,
  ) {
    this.ring = new Array(capacity);
  }

  get queued(): number { return this.size; }
  /** True while the transport is back-pressured (the client is not reading fast enough). */
  get blocked(): boolean { return !this.writable; }

  enqueue(item: T): void {
    const cap = this.capacity;
    if (this.size === cap) {
      // Drop the oldest: overwrite the head slot and advance.
      this.ring[this.head] = item;
      this.head = (this.head + 1) % cap;
      this.dropped++;
      this.onDrop(1);
      return;
    }
    this.ring[(this.head + this.size) % cap] = item;
    this.size++;
  }

  /** Hands queued items to the sink until it pushes back or the queue is empty. */
  flush(): void {
    while (this.writable && this.size > 0 && !this.closed) {
      const n = Math.min(this.size, this.maxChunk);
      const chunk: T[] = new Array(n);
      for (let i = 0; i < n; i++) {
        const idx = (this.head + i) % this.capacity;
        chunk[i] = this.ring[idx] as T;
        this.ring[idx] = undefined;
      }
      this.head = (this.head + n) % this.capacity;
      this.size -= n;
      this.delivered += n;
      this.writable = this.sink.write(chunk);
    }
  }

  /** The transport drained: deliver what queued up meanwhile. */
  resume(): void {
    this.writable = true;
    this.flush();
  }
}

export class Hub<T> {
  private readonly subscribers = new Set<Subscriber<T>>();

  constructor(readonly maxClients: number, readonly capacity: number, private readonly onDrop: (n: number) => void) {}

  get size(): number { return this.subscribers.size; }

  /** Adds a client; undefined when the hub is full (the caller answers 503 / RESOURCE_EXHAUSTED). */
  subscribe(accept: (item: T) => boolean, sink: StreamSink<T>): Subscriber<T> | undefined {
    if (this.subscribers.size >= this.maxClients) return undefined;
    const s = new Subscriber(accept, sink, this.capacity, this.onDrop);
    this.subscribers.add(s);
    return s;
  }

  unsubscribe(s: Subscriber<T>): void {
    s.closed = true;
    this.subscribers.delete(s);
  }

  publish(items: readonly T[]): void {
    for (const s of this.subscribers) {
      for (let i = 0; i < items.length; i++) if (s.accept(items[i]!)) s.enqueue(items[i]!);
      s.flush();
    }
  }

  clients(): Subscriber<T>[] { return [...this.subscribers]; }

  closeAll(): void {
    for (const s of this.subscribers) s.closed = true;
    this.subscribers.clear();
  }
}
