import { BrokerUnavailableError } from '../../errors';
import { TaskMessage } from '../../protocol/task-message';
import {
  Broker,
  ConsumeOptions,
  Consumer,
  DeadLetter,
  Delivery,
  DeliveryHandler,
  ExchangeHandler,
  ExchangeSpec,
  ListenerQueueSpec,
  PublishOptions,
  checkPrefetch,
  deadLetterQueueOf,
} from '../broker.interface';
import { routingMatches } from '../exchange-routing';
import { KombuEnvelope, markRedelivered, messageOf, parseEnvelope, toEnvelope } from '../kombu/kombu-envelope';
import { MemoryBus, memoryBusFor } from './memory.bus';

/**
 * An in-process broker, for tests, demos and eager local runs. Brokers built on the same URL
 * (`memory://name`) share one bus, so an api app and a worker app in one process talk to each other.
 * Messages travel as kombu envelopes, exactly as on Redis. Priorities are not ordered here.
 */
export class MemoryBroker implements Broker {
  readonly transport = 'memory';
  private readonly bus: MemoryBus;
  private readonly consumers = new Set<MemoryConsumer>();
  private readonly listeners = new Set<() => Promise<void>>();
  private closed = false;

  constructor(private readonly url: string) {
    this.bus = memoryBusFor(url);
  }

  describe(): string {
    return this.url;
  }

  async connect(): Promise<void> {}

  async publish(queue: string, message: TaskMessage, options: PublishOptions = {}): Promise<void> {
    if (this.closed) throw new BrokerUnavailableError('The memory broker is closed.');
    const raw = JSON.stringify(toEnvelope(message, '', queue));
    if (options.deliverAt) this.bus.pushAt(queue, raw, options.deliverAt.getTime());
    else this.bus.push(queue, raw);
  }

  async reserveRateSlot(key: string, intervalMs: number, maxHoldMs: number): Promise<number> {
    const now = Date.now();
    const slot = Math.max(now, this.bus.rateSlots.get(key) ?? now);
    if (slot - now <= maxHoldMs) this.bus.rateSlots.set(key, slot + intervalMs);
    return slot - now;
  }

  /** Messages held for later on this queue (countdown, eta, retries). */
  delayedLength(queue: string): number {
    return this.bus.delayedLength(queue);
  }

  async consume(options: ConsumeOptions, handler: DeliveryHandler): Promise<Consumer> {
    const consumer = new MemoryConsumer(this.bus, options, handler, () => this.consumers.delete(consumer));
    this.consumers.add(consumer);
    consumer.pump();
    return consumer;
  }

  async purge(queue: string): Promise<number> {
    return this.bus.purge(queue);
  }

  async queueLength(queue: string): Promise<number> {
    return this.bus.length(queue);
  }

  async readDeadLetters(queue: string, limit = 100): Promise<DeadLetter[]> {
    return this.bus
      .peek(deadLetterQueueOf(queue), limit)
      .map((raw) => JSON.parse(raw) as { queue: string; reason: string; at: string; envelope: KombuEnvelope })
      .map((d) => ({ queue: d.queue, reason: d.reason, at: d.at, message: messageOf(d.envelope) }));
  }

  async publishToExchange(exchange: ExchangeSpec, routingKey: string, message: TaskMessage): Promise<void> {
    if (this.closed) throw new BrokerUnavailableError('The memory broker is closed.');
    this.bus.emit(
      `exchange:${exchange.name}`,
      JSON.stringify(toEnvelope(message, exchange.name, routingKey)),
      routingKey,
    );
  }

  async listen(
    exchange: ExchangeSpec,
    queue: ListenerQueueSpec,
    handler: ExchangeHandler,
  ): Promise<() => Promise<void>> {
    const onMessage = (raw: string, routingKey: string) => {
      if (!routingMatches(exchange.type, queue.bindingKey, routingKey)) return;
      setImmediate(() => handler(messageOf(parseEnvelope(raw)), routingKey));
    };
    this.bus.on(`exchange:${exchange.name}`, onMessage);
    const stop = async () => {
      this.bus.off(`exchange:${exchange.name}`, onMessage);
      this.listeners.delete(stop);
    };
    this.listeners.add(stop);
    return stop;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const stop of [...this.listeners]) await stop();
    for (const c of [...this.consumers]) c.returnUnsettled();
  }
}

class MemoryConsumer implements Consumer {
  private unsettled = new Map<string, { queue: string; raw: string }>();
  private stopped = false;
  private turn = 0;
  private seq = 0;
  private readonly wake = () => this.pump();
  private readonly served: string[];
  private prefetch: number;

  constructor(
    private readonly bus: MemoryBus,
    options: ConsumeOptions,
    private readonly handler: DeliveryHandler,
    private readonly onGone: () => void,
  ) {
    checkPrefetch(options.prefetch);
    this.served = [...options.queues];
    this.prefetch = options.prefetch;
    bus.on('message', this.wake);
  }

  get queues(): readonly string[] {
    return this.served;
  }

  async addQueue(queue: string): Promise<void> {
    if (!this.served.includes(queue)) this.served.push(queue);
    setImmediate(this.wake);
  }

  async cancelQueue(queue: string): Promise<void> {
    const i = this.served.indexOf(queue);
    if (i >= 0) this.served.splice(i, 1);
  }

  async setPrefetch(prefetch: number): Promise<void> {
    checkPrefetch(prefetch);
    this.prefetch = prefetch;
    setImmediate(this.wake);
  }

  pump(): void {
    const queues = this.served;
    while (!this.stopped && this.unsettled.size < this.prefetch) {
      let raw: string | undefined;
      let queue = '';
      for (let i = 0; i < queues.length && raw === undefined; i++) {
        queue = queues[(this.turn + i) % queues.length];
        raw = this.bus.shift(queue);
      }
      if (raw === undefined) return;
      this.turn++;
      this.deliver(queue, raw);
    }
  }

  private deliver(queue: string, raw: string): void {
    const tag = String(++this.seq);
    this.unsettled.set(tag, { queue, raw });
    const settle = () => {
      const had = this.unsettled.delete(tag);
      if (had) setImmediate(this.wake);
      return had;
    };
    let env: KombuEnvelope | null = null;
    let message: TaskMessage;
    let parseError: Error | null = null;
    try {
      env = parseEnvelope(raw);
      message = messageOf(env);
    } catch (err) {
      parseError = err as Error;
      message = { headers: {}, properties: {}, contentType: '', contentEncoding: '', body: Buffer.from(raw) };
    }
    const bus = this.bus;
    const delivery: Delivery = {
      transportError: parseError ?? undefined,
      message,
      queue,
      exchange: env?.properties.delivery_info?.exchange ?? '',
      routingKey: env?.properties.delivery_info?.routing_key ?? queue,
      redelivered: Boolean(env?.properties.delivery_info?.redelivered),
      async ack() {
        settle();
      },
      async reject(requeue: boolean) {
        if (settle() && requeue) bus.push(queue, env ? JSON.stringify(markRedelivered(env)) : raw);
      },
      async deferUntil(at: Date) {
        if (settle()) bus.pushAt(queue, raw, at.getTime());
      },
      async deadLetter(reason: string) {
        if (!settle()) return;
        bus.push(
          deadLetterQueueOf(queue),
          JSON.stringify({
            queue,
            reason,
            at: new Date().toISOString(),
            envelope: env ?? { body: Buffer.from(raw).toString('base64'), properties: { body_encoding: 'base64' } },
          }),
          false,
        );
      },
    };
    setImmediate(() => this.handler(delivery));
  }

  /** What a closing connection does on AMQP: every unsettled delivery goes back, marked redelivered. */
  returnUnsettled(): void {
    this.stopped = true;
    this.bus.off('message', this.wake);
    for (const { queue, raw } of this.unsettled.values()) {
      let back = raw;
      try {
        back = JSON.stringify(markRedelivered(parseEnvelope(raw)));
      } catch {
        /* keep as is */
      }
      this.bus.unshift(queue, back);
    }
    this.unsettled.clear();
    this.onGone();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.bus.off('message', this.wake);
  }
}
