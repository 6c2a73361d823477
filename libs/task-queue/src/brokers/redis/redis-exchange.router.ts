import { Logger } from '@nestjs/common';
import type Redis from 'ioredis';
import { BrokerUnavailableError } from '../../errors';
import { TaskMessage } from '../../protocol/task-message';
import { ExchangeHandler, ExchangeSpec, ListenerQueueSpec } from '../broker.interface';
import { routingMatches } from '../exchange-routing';
import { messageOf, parseEnvelope, toEnvelope } from '../kombu/kombu-envelope';
import { KOMBU_SEP, RedisKeys } from './redis-keys';
import { ConnectionLostError, ReadyGate, withReconnect } from '../../transports/redis/redis.connection';
import { RedisSubscriber } from '../../transports/redis/redis.subscriber';
import { DirectQueueReader } from './redis-direct.reader';
import { PUBLISH_DIRECT_SCRIPT } from './lua/publish-direct.script';

export interface ExchangeRouterDeps {
  cmd: Redis;
  gate: ReadyGate;
  keys: RedisKeys;
  /** The Redis DB number: Pub/Sub is not per DB, so channels carry it (`/<db>.`). */
  db: number;
  /** Milliseconds a publish or listen may wait for Redis (the broker's publishTimeout). */
  timeoutMs: number;
  /** Created on first use: fanout and topic listeners. */
  subscriber: () => RedisSubscriber;
  /** Created on first use: direct listeners. */
  reader: () => DirectQueueReader;
  describe: () => string;
  logger: Logger;
}

/**
 * Named exchanges as kombu emulates them on Redis (celery-wire.md 3.4, 3.7):
 * - fanout and topic (Celery makes `celeryev` fanout on Redis; pidbox is fanout): PUBLISH of the
 *   kombu envelope on `<prefix>/<db>.<exchange>[/<routing key>]`; a listener PSUBSCRIBEs its
 *   binding key with `#` made `*`, and registers its queue in `_kombu.binding.<exchange>`;
 * - direct (Celery's `reply.celery.pidbox`): the envelope is LPUSHed to every queue bound with the
 *   routing key in `_kombu.binding.<exchange>`; a listener binds its queue there and BRPOPs it.
 */
export class RedisExchangeRouter {
  private readonly stops = new Set<() => Promise<void>>();

  constructor(private readonly deps: ExchangeRouterDeps) {}

  async publish(exchange: ExchangeSpec, routingKey: string, message: TaskMessage): Promise<void> {
    const { cmd, gate, keys } = this.deps;
    const raw = JSON.stringify(toEnvelope(message, exchange.name, routingKey));
    const deadline = Date.now() + this.deps.timeoutMs;
    const what = () =>
      `Could not publish to exchange "${exchange.name}" (routing key "${routingKey}"): Redis at ${this.deps.describe()} was unreachable for ${this.deps.timeoutMs} ms (publishTimeout).`;
    const send = (): Promise<number> =>
      exchange.type === 'direct'
        ? PUBLISH_DIRECT_SCRIPT.run<number>(
            cmd,
            [keys.binding(exchange.name)],
            [routingKey, keys.prefix, bucketSuffix(message.properties.priority), raw, KOMBU_SEP],
          )
        : cmd.publish(keys.channel(this.deps.db, exchange.name, routingKey), raw);
    let pushed: number;
    try {
      // A lost reply may hide a delivered message; sending again keeps at-least-once, as publish() does.
      pushed = await withReconnect(cmd, gate, deadline, what, send);
    } catch (err) {
      if (err instanceof ConnectionLostError) throw new BrokerUnavailableError(what(), { cause: err });
      throw err;
    }
    if (exchange.type === 'direct' && pushed === 0) {
      this.deps.logger.warn(
        `Dropped a message to exchange "${exchange.name}": no queue is bound with routing key "${routingKey}" (the listener has gone, e.g. a control reply after the caller's timeout).`,
      );
    }
  }

  async listen(
    exchange: ExchangeSpec,
    queue: ListenerQueueSpec,
    handler: ExchangeHandler,
  ): Promise<() => Promise<void>> {
    const stop =
      exchange.type === 'direct'
        ? await this.listenDirect(exchange, queue, handler)
        : await this.listenPubSub(exchange, queue, handler);
    let stopped: Promise<void> | null = null;
    const once = () => {
      this.stops.delete(once);
      return (stopped ??= stop());
    };
    this.stops.add(once);
    return once;
  }

  /** Stops every listener: their bindings are removed and their direct queues deleted. */
  async close(): Promise<void> {
    await Promise.all(
      [...this.stops].map((s) =>
        s().catch((err: Error) =>
          this.deps.logger.warn(`Closing: could not remove a listener's binding (${err.message}).`),
        ),
      ),
    );
  }

  private async listenPubSub(
    exchange: ExchangeSpec,
    queue: ListenerQueueSpec,
    handler: ExchangeHandler,
  ): Promise<() => Promise<void>> {
    const { keys, db } = this.deps;
    const base = escapeGlob(keys.channel(db, exchange.name));
    // kombu subscribes to the binding key with `#` made `*`. A fanout exchange ignores keys, so its
    // listener also takes the channels that carry one.
    const patterns =
      exchange.type === 'fanout'
        ? [base, `${base}/*`]
        : [queue.bindingKey ? `${base}/${escapeGlob(queue.bindingKey, true).replace(/#/g, '*')}` : base];
    const prefix = keys.channelPrefix(db);
    const onMessage = (payload: string, channel: string) => {
      const rest = channel.startsWith(prefix) ? channel.slice(prefix.length) : channel;
      const slash = rest.indexOf('/');
      let message: TaskMessage;
      let routingKey = slash < 0 ? '' : rest.slice(slash + 1);
      try {
        const env = parseEnvelope(payload);
        message = messageOf(env);
        if (!routingKey && typeof env.properties.delivery_info?.routing_key === 'string')
          routingKey = env.properties.delivery_info.routing_key;
      } catch (err) {
        this.deps.logger.warn(
          `Ignoring a message on channel ${channel} that is not a kombu envelope: ${(err as Error).message}`,
        );
        return;
      }
      if (exchange.type === 'topic' && queue.bindingKey && !routingMatches('topic', queue.bindingKey, routingKey))
        return;
      handler(message, routingKey);
    };
    const member = RedisKeys.bindingMember(queue.bindingKey, queue.name);
    await this.bind(exchange, member);
    const subscriber = this.deps.subscriber();
    const removers: Array<() => Promise<void>> = [];
    const deadline = Date.now() + this.deps.timeoutMs;
    try {
      for (const p of patterns)
        removers.push(
          await subscriber.add(
            p,
            onMessage,
            deadline,
            () => `Could not listen to exchange "${exchange.name}": Redis at ${this.deps.describe()} is unreachable.`,
          ),
        );
    } catch (err) {
      await Promise.all(removers.map((r) => r()));
      await this.unbind(exchange, member, []).catch(() => undefined);
      throw err;
    }
    return async () => {
      await Promise.all(removers.map((r) => r()));
      await this.unbind(exchange, member, []);
    };
  }

  private async listenDirect(
    exchange: ExchangeSpec,
    queue: ListenerQueueSpec,
    handler: ExchangeHandler,
  ): Promise<() => Promise<void>> {
    const { keys } = this.deps;
    const member = RedisKeys.bindingMember(queue.bindingKey, queue.name);
    const lists = keys.buckets(queue.name);
    await this.bind(exchange, member);
    const remove = await this.deps.reader().add(
      lists,
      (_list, item) => {
        let message: TaskMessage;
        let routingKey = queue.bindingKey;
        try {
          const env = parseEnvelope(item);
          message = messageOf(env);
          if (typeof env.properties.delivery_info?.routing_key === 'string')
            routingKey = env.properties.delivery_info.routing_key;
        } catch (err) {
          this.deps.logger.warn(
            `Ignoring an item of queue ${queue.name} that is not a kombu envelope: ${(err as Error).message}`,
          );
          return;
        }
        handler(message, routingKey);
      },
      Date.now() + this.deps.timeoutMs,
    );
    return async () => {
      remove();
      // As kombu's auto-delete reply queue: the binding and the lists go together.
      await this.unbind(exchange, member, lists);
    };
  }

  private bind(exchange: ExchangeSpec, member: string): Promise<unknown> {
    const { cmd, gate, keys } = this.deps;
    return withReconnect(
      cmd,
      gate,
      Date.now() + this.deps.timeoutMs,
      () => `Could not bind to exchange "${exchange.name}": Redis at ${this.deps.describe()} is unreachable.`,
      () => cmd.sadd(keys.binding(exchange.name), member),
    );
  }

  private unbind(exchange: ExchangeSpec, member: string, lists: string[]): Promise<unknown> {
    const { cmd, gate, keys } = this.deps;
    return withReconnect(
      cmd,
      gate,
      Date.now() + this.deps.timeoutMs,
      () => `Could not unbind from exchange "${exchange.name}": Redis at ${this.deps.describe()} is unreachable.`,
      () => {
        const tx = cmd.multi().srem(keys.binding(exchange.name), member);
        if (lists.length) tx.del(...lists);
        return tx.exec();
      },
    );
  }
}

/** The part of a bucket key after the queue name: `""` for step 0, else SEP + step. */
function bucketSuffix(priority: unknown): string {
  const step = RedisKeys.stepOf(priority);
  return step === 0 ? '' : `${KOMBU_SEP}${step}`;
}

/** Escapes Redis glob characters, so names are matched literally in a PSUBSCRIBE pattern (`*` kept in binding keys). */
function escapeGlob(s: string, keepStar = false): string {
  return s.replace(keepStar ? /[\\?[\]]/g : /[\\*?[\]]/g, '\\$&');
}
