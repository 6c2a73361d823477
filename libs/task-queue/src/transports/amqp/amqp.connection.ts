import { EventEmitter } from 'node:events';
import { Logger } from '@nestjs/common';
import type { Channel, ChannelModel, ConfirmChannel, RecoveringChannelModel } from 'amqplib';
import { BrokerUnavailableError, ConfigurationError } from '../../errors';
import { maskUrl } from '../url-mask';
import { closeChannelQuietly, settleWithin } from './amqp-channel.close';
import { loadAmqplib } from './amqplib.loader';
import { AmqpFailoverTarget } from './amqp-failover';

export interface AmqpConnectionOptions {
  /** Seconds between heartbeats; undefined = the server's suggestion (RabbitMQ: 60). */
  heartbeat?: number;
  /** First reconnect delay in ms (doubled per failed attempt, with jitter). */
  reconnectDelay: number;
  /** Upper bound of the reconnect delay in ms. */
  reconnectMaxDelay: number;
  /** Name for logs and for RabbitMQ's connection list (`connection_name` client property). */
  name: string;
}

/**
 * One AMQP connection that comes back by itself. amqplib's recovery reconnects with backoff; this
 * class adds what it leaves out: a bound on every wait (BrokerUnavailableError), and a `connect`
 * event after each (re)connection, on which owners of channels redeclare and resume.
 *
 * Events: `connect` (every successful connection, the first included), `disconnect` (err).
 */
export class AmqpConnection extends EventEmitter {
  private readonly logger: Logger;
  private model: RecoveringChannelModel | null = null;
  private opening: Promise<RecoveringChannelModel> | null = null;
  private connected = false;
  private closed = false;
  private lastError: Error | null = null;
  private failures = 0;

  constructor(
    private readonly url: string,
    private readonly options: AmqpConnectionOptions,
  ) {
    super();
    if (!/^amqps?:\/\//i.test(url)) {
      throw new ConfigurationError(
        `${maskUrl(url)} is not an AMQP URL: use amqp://user:pass@host:port/vhost or amqps://…`,
      );
    }
    this.logger = new Logger(options.name);
    this.setMaxListeners(0);
  }

  /** True while a connection is open. */
  get isConnected(): boolean {
    return this.connected;
  }

  /** Waits for an open connection, at most `timeoutMs`. */
  async waitConnected(timeoutMs: number): Promise<void> {
    const model = await this.recovering();
    await withTimeout(model.waitForConnect(), timeoutMs, () => this.unavailable(timeoutMs));
    if (!this.connected) {
      await withTimeout(new Promise<void>((r) => this.once('connect', () => r())), timeoutMs, () =>
        this.unavailable(timeoutMs),
      );
    }
  }

  /** Opens a channel on the current connection, waiting for one at most `timeoutMs`. */
  async createChannel(confirm: true, timeoutMs: number): Promise<ConfirmChannel>;
  async createChannel(confirm: false, timeoutMs: number): Promise<Channel>;
  async createChannel(confirm: boolean, timeoutMs: number): Promise<Channel> {
    const model = await this.recovering();
    const opening = confirm ? model.createConfirmChannel() : model.createChannel();
    // A channel that opens after we gave up waiting is closed, not leaked.
    let gaveUp = false;
    opening.then(
      (ch) => {
        // A channel error with no listener would be rethrown by EventEmitter and take the whole
        // connection down; owners add their own listeners, this one keeps the floor.
        ch.on('error', (err: Error) => this.logger.debug(`Channel error: ${err.message}`));
        if (gaveUp) void closeChannelQuietly(ch);
      },
      () => undefined,
    );
    return withTimeout(opening, timeoutMs, () => {
      gaveUp = true;
      return this.unavailable(timeoutMs);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const model = this.model ?? (this.opening ? await this.opening.catch(() => null) : null);
    this.connected = false;
    if (model)
      await settleWithin(
        model.close().catch((err: Error) => this.logger.warn(`Closing the connection: ${err.message}`)),
      );
  }

  private recovering(): Promise<RecoveringChannelModel> {
    if (this.closed)
      return Promise.reject(new BrokerUnavailableError(`The AMQP connection to ${maskUrl(this.url)} is closed.`));
    this.opening ??= this.open();
    return this.opening;
  }

  private async open(): Promise<RecoveringChannelModel> {
    // Loaded here, not at the top: only AMQP users load amqplib.
    const amqp = loadAmqplib();
    const failover = new AmqpFailoverTarget(this.url, this.options.heartbeat);
    const model = await amqp.connect(failover.isList ? (failover.target() as never) : this.urlWithHeartbeat(), {
      clientProperties: { connection_name: this.options.name },
      recovery: {
        initialDelay: this.options.reconnectDelay,
        maxDelay: this.options.reconnectMaxDelay,
        waitForConnect: false,
      },
    });
    model.on('connect', (m: ChannelModel) => {
      this.connected = true;
      this.failures = 0;
      this.logger.log(`Connected to ${failover.isList ? failover.current : maskUrl(this.url)}`);
      this.emit('connect', m);
    });
    model.on('disconnect', (err: Error) => {
      this.connected = false;
      this.lastError = err;
      this.logger.warn(
        `Lost the connection to ${failover.isList ? failover.current : maskUrl(this.url)}: ${err.message}. Reconnecting.`,
      );
      if (failover.isList) failover.next();
      this.emit('disconnect', err);
    });
    model.on('connect-failed', (err: Error) => {
      this.lastError = err;
      if (failover.isList) failover.next();
      // Attempts 1, 2, 4, 8…: an outage is visible without a line per retry.
      this.failures++;
      if ((this.failures & (this.failures - 1)) === 0) {
        this.logger.warn(`Cannot connect to ${maskUrl(this.url)} (attempt ${this.failures}): ${err.message}`);
      }
    });
    model.on('error', (err: Error) => this.logger.warn(`Connection error: ${err.message}`));
    model.on('blocked', (reason: string) => this.logger.warn(`RabbitMQ blocks publishing: ${reason}`));
    this.model = model;
    return model;
  }

  private urlWithHeartbeat(): string {
    const hb = this.options.heartbeat;
    if (hb === undefined || /[?&]heartbeat=/.test(this.url)) return this.url;
    return `${this.url}${this.url.includes('?') ? '&' : '?'}heartbeat=${hb}`;
  }

  private unavailable(timeoutMs: number): BrokerUnavailableError {
    return new BrokerUnavailableError(
      `RabbitMQ at ${maskUrl(this.url)} could not be reached within ${timeoutMs} ms` +
        (this.lastError ? ` (last error: ${this.lastError.message})` : '') +
        '. Check that it runs and that the URL, user and vhost are right.',
    );
  }
}

/** Resolves as `promise` does, or rejects with `onTimeout()` after `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_r, reject) => {
    timer = setTimeout(() => reject(onTimeout()), Math.max(0, ms));
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
