import { once } from 'node:events';
import { Logger } from '@nestjs/common';
import type { ConfirmChannel, Options } from 'amqplib';
import { BrokerUnavailableError, TaskQueueError } from '../../errors';
import { AmqpChannelKeeper } from './amqp-channel.keeper';
import { AmqpConnection } from './amqp.connection';

/** What to publish: exchange, routing key, body and amqplib options (headers already typed). */
export interface AmqpOutgoing {
  exchange: string;
  routingKey: string;
  content: Buffer;
  options: Options.Publish;
}

/** Runs before each attempt on the channel about to be used (declarations). */
export type BeforePublish = (attempt: number) => Promise<void>;

const RETRY_FIRST_MS = 50;
const RETRY_MAX_MS = 1000;

/**
 * Publishes with publisher confirms on one ConfirmChannel. Confirms are streamed: each publish
 * resolves when RabbitMQ confirms *that* message, while any number of others are in flight
 * (no waitForConfirms round trip per message).
 *
 * When the channel or connection is lost before the confirm, the message is published again on
 * the next channel until `timeoutMs` runs out (BrokerUnavailableError). That is at-least-once: a
 * message whose confirm was lost with the connection can arrive twice. A nack (RabbitMQ could not
 * take the message, e.g. a quorum queue without a leader for a moment) retires the channel and is
 * published again on a new one, within the same `timeoutMs`.
 */
export class AmqpPublisher {
  private readonly keeper: AmqpChannelKeeper<ConfirmChannel>;
  private readonly inFlight = new Set<Promise<unknown>>();
  private drained: Promise<unknown> | null = null;
  private readonly lost = new WeakMap<ConfirmChannel, Promise<never>>();

  constructor(
    private readonly connection: AmqpConnection,
    private readonly logger: Logger,
  ) {
    this.keeper = new AmqpChannelKeeper<ConfirmChannel>(connection, true, logger, 'publisher');
  }

  async publish(out: AmqpOutgoing, timeoutMs: number, before?: BeforePublish): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let lastError: Error | null = null;
    for (let attempt = 0; ; attempt++) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        throw new BrokerUnavailableError(
          `Publishing to "${out.routingKey}" was not confirmed by RabbitMQ within ${timeoutMs} ms` +
            (lastError ? ` (last error: ${lastError.message})` : '') +
            '.',
          { cause: lastError },
        );
      }
      let channel: ConfirmChannel | null = null;
      try {
        if (before) await before(attempt);
        channel = await this.keeper.get(remaining);
        await this.send(channel, out, remaining);
        return;
      } catch (err) {
        if (err instanceof TaskQueueError && !(err instanceof BrokerUnavailableError)) throw err;
        if ((err as Error).message === 'message nacked') {
          // A confirm channel that published to a quorum queue while its leader was lost (cluster
          // node killed) can nack every later message while a fresh channel on the same connection
          // is acked (seen on RabbitMQ 3.10): retire the channel and publish again on a new one.
          lastError = new Error(`RabbitMQ refused (nack) the message: it could not store it`);
          if (channel) await this.keeper.retire(channel);
        } else {
          lastError = err as Error;
        }
        if (attempt === 0)
          this.logger.warn(
            `Publishing to "${out.routingKey}" failed (${lastError.message}); retrying for up to ${timeoutMs} ms.`,
          );
        const pause = Math.min(RETRY_FIRST_MS * 2 ** attempt, RETRY_MAX_MS, Math.max(0, deadline - Date.now()));
        await new Promise((r) => setTimeout(r, pause));
      }
    }
  }

  /** Waits until every publish in flight is confirmed or failed, at most `timeoutMs`. */
  async flush(timeoutMs: number): Promise<void> {
    if (this.inFlight.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.inFlight]),
      new Promise((r) => (timer = setTimeout(r, timeoutMs))),
    ]);
    clearTimeout(timer);
  }

  async close(): Promise<void> {
    await this.keeper.close();
  }

  /** Rejects when the channel closes or its connection is lost: one pair of listeners per channel, shared by its publishes. */
  private lostOf(channel: ConfirmChannel): Promise<never> {
    let lost = this.lost.get(channel);
    if (!lost) {
      lost = new Promise<never>((_, reject) => {
        const onDisconnect = (err?: Error) =>
          done(new Error(`the connection was lost before the confirm${err ? ` (${err.message})` : ''}`));
        const onClose = () => done(new Error('the channel closed before the confirm'));
        const done = (err: Error) => {
          this.connection.off('disconnect', onDisconnect);
          channel.off('close', onClose);
          reject(err);
        };
        this.connection.once('disconnect', onDisconnect);
        channel.once('close', onClose);
      });
      lost.catch(() => undefined);
      this.lost.set(channel, lost);
    }
    return lost;
  }

  private async send(channel: ConfirmChannel, out: AmqpOutgoing, remaining: number): Promise<void> {
    if (this.drained) await this.drained;
    const confirmed = new Promise<void>((resolve, reject) => {
      const written = channel.publish(out.exchange, out.routingKey, out.content, out.options, (err) =>
        err ? reject(err) : resolve(),
      );
      if (!written && !this.drained) {
        // amqplib buffered the frame: let later publishes wait for the socket to drain.
        // A channel of a connection that died may never emit 'drain' nor 'close' (seen after a
        // cluster node was killed under load): every later publish would wait here forever.
        const done = new AbortController(); // removes the listeners of the events that did not come
        const { signal } = done;
        this.drained = Promise.race([
          once(channel, 'drain', { signal }),
          once(channel, 'close', { signal }),
          once(this.connection, 'disconnect', { signal }),
          drainBound(),
        ])
          .catch(() => undefined)
          .finally(() => {
            done.abort();
            this.drained = null;
          });
      }
    });
    this.inFlight.add(confirmed);
    confirmed.catch(() => undefined); // may settle after we stopped waiting for it (below)
    // A confirm pending on a connection that died may never be settled: stop waiting for it when the
    // connection is lost, the channel closes or the publish's time is up, and publish again.
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>(
      (_, reject) => (timer = setTimeout(() => reject(new Error(`no confirm within ${remaining} ms`)), remaining)),
    );
    try {
      await Promise.race([confirmed, late, this.lostOf(channel)]);
    } finally {
      clearTimeout(timer);
      this.inFlight.delete(confirmed);
    }
  }
}

/** Longest wait for a buffered channel to drain before publishing goes on regardless. */
const DRAIN_BOUND_MS = 2000;

function drainBound(): Promise<void> {
  return new Promise((r) => setTimeout(r, DRAIN_BOUND_MS).unref());
}
