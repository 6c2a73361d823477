import { EventEmitter } from 'node:events';

/** A FIFO with O(1) shift (Array#shift is O(n) on deep arrays). */
class Fifo {
  private items: string[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(x: string): void {
    this.items.push(x);
  }

  unshift(x: string): void {
    if (this.head > 0) this.items[--this.head] = x;
    else this.items.unshift(x);
  }

  shift(): string | undefined {
    if (this.head >= this.items.length) return undefined;
    const x = this.items[this.head];
    this.items[this.head++] = '';
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return x;
  }

  /** Newest first. */
  peek(limit: number): string[] {
    const out: string[] = [];
    for (let i = this.items.length - 1; i >= this.head && out.length < limit; i--) out.push(this.items[i]);
    return out;
  }
}

/** The queues of one `memory://name`, shared by every MemoryBroker built on that URL in this process. */
export class MemoryBus extends EventEmitter {
  private readonly queues = new Map<string, Fifo>();
  /** Messages held until a time, earliest first; one timer for the earliest, none per message. */
  private readonly delayed: Array<{ at: number; queue: string; raw: string }> = [];
  private timer: NodeJS.Timeout | null = null;

  constructor() {
    super();
    this.setMaxListeners(0);
  }

  push(queue: string, raw: string, notify = true): void {
    this.list(queue).push(raw);
    if (notify) this.emit('message', queue);
  }

  /** Next free start slot of each shared rate limit (epoch ms). */
  readonly rateSlots = new Map<string, number>();

  /** Holds a message until `at`, then pushes it onto its queue. */
  pushAt(queue: string, raw: string, at: number): void {
    if (at <= Date.now()) return this.push(queue, raw);
    let i = this.delayed.length;
    while (i > 0 && this.delayed[i - 1].at > at) i--;
    this.delayed.splice(i, 0, { at, queue, raw });
    if (i === 0) this.arm();
  }

  /** Messages held for later on this queue. */
  delayedLength(queue: string): number {
    return this.delayed.filter((d) => d.queue === queue).length;
  }

  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const first = this.delayed[0];
    if (!first) return;
    this.timer = setTimeout(() => this.release(), Math.max(0, first.at - Date.now()));
    this.timer.unref();
  }

  private release(): void {
    const now = Date.now();
    while (this.delayed.length && this.delayed[0].at <= now) {
      const d = this.delayed.shift()!;
      this.push(d.queue, d.raw);
    }
    this.arm();
  }

  /** Puts a message at the head, to be consumed next (a returned delivery). */
  unshift(queue: string, raw: string): void {
    this.list(queue).unshift(raw);
    this.emit('message', queue);
  }

  shift(queue: string): string | undefined {
    return this.queues.get(queue)?.shift();
  }

  length(queue: string): number {
    return this.queues.get(queue)?.length ?? 0;
  }

  peek(queue: string, limit: number): string[] {
    return this.queues.get(queue)?.peek(limit) ?? [];
  }

  purge(queue: string): number {
    const n = this.length(queue) + this.delayedLength(queue);
    this.queues.delete(queue);
    for (let i = this.delayed.length - 1; i >= 0; i--) if (this.delayed[i].queue === queue) this.delayed.splice(i, 1);
    return n;
  }

  private list(queue: string): Fifo {
    let q = this.queues.get(queue);
    if (!q) this.queues.set(queue, (q = new Fifo()));
    return q;
  }
}

const buses = new Map<string, MemoryBus>();

/** `memory://`, `memory://name` and `memory:name` each name one bus per process. */
export function memoryBusFor(url: string): MemoryBus {
  const name = url.replace(/^memory:(\/\/)?/i, '');
  let bus = buses.get(name);
  if (!bus) buses.set(name, (bus = new MemoryBus()));
  return bus;
}
