import { Logger } from '@nestjs/common';
import type { Channel } from 'amqplib';
import { BrokerUnavailableError } from '../../errors';
import { AmqpConnection } from './amqp.connection';
import { closeChannelQuietly } from './amqp-channel.close';

/**
 * Keeps one channel of a kind open on an AmqpConnection: hands out the live one, or opens a new one
 * when the last was closed (by a channel error such as a 406, or with its connection). Every waiter
 * of one opening shares it, so an outage does not pile up channels.
 */
export class AmqpChannelKeeper<C extends Channel = Channel> {
  private channel: C | null = null;
  private opening: Promise<C> | null = null;
  private generation = 0;
  private closed = false;

  constructor(
    private readonly connection: AmqpConnection,
    private readonly confirm: boolean,
    private readonly logger: Logger,
    private readonly label: string,
  ) {
    // A channel of a connection that died may never emit 'close' (seen after a cluster node was
    // SIGKILLed under load): forget it on the disconnect, or every later get() hands out the dead one
    // and publishes and declarations wait on it forever while the connection is already back.
    connection.on('disconnect', () => {
      this.channel = null;
    });
  }

  /** The open channel, if there is one. */
  current(): C | null {
    return this.channel;
  }

  /** Increases each time a new channel is opened; lets callers tell an old channel from the current one. */
  get channelGeneration(): number {
    return this.generation;
  }

  /** The open channel, or a new one; waits at most `timeoutMs` (then BrokerUnavailableError). */
  async get(timeoutMs: number): Promise<C> {
    if (this.closed) throw new BrokerUnavailableError(`The ${this.label} channel is closed.`);
    if (this.channel) return this.channel;
    this.opening ??= this.open(timeoutMs).finally(() => (this.opening = null));
    return this.opening;
  }

  private async open(timeoutMs: number): Promise<C> {
    const ch = (await this.connection.createChannel(this.confirm as true, timeoutMs)) as unknown as C;
    if (this.closed) {
      await closeChannelQuietly(ch);
      throw new BrokerUnavailableError(`The ${this.label} channel is closed.`);
    }
    this.generation++;
    this.channel = ch;
    ch.on('error', (err: Error) => this.logger.warn(`The ${this.label} channel failed: ${err.message}`));
    ch.on('close', () => {
      if (this.channel === ch) this.channel = null;
    });
    return ch;
  }

  /**
   * Stops handing out `channel` (when it is still the current one) and closes it, so the next get()
   * opens a fresh one. For a channel that is open but no longer trusted.
   */
  async retire(channel: C): Promise<void> {
    if (this.channel !== channel) return;
    this.channel = null;
    await closeChannelQuietly(channel);
  }

  /** Closes the channel. One still opening is closed when it arrives (not waited for: it may wait on an outage). */
  async close(): Promise<void> {
    this.closed = true;
    const ch = this.channel;
    this.channel = null;
    if (ch) await closeChannelQuietly(ch);
  }
}
