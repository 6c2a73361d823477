import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type Redis from 'ioredis';
import { Consumer, ConsumeOptions, DeliveryHandler, checkPrefetch, deadLetterQueueOf } from '../broker.interface';
import { PRIORITY_STEPS, RedisKeys } from './redis-keys';
import {
  ConnectionLostError,
  ReadyGate,
  closeConnection,
  untilClosed,
  withReconnect,
} from '../../transports/redis/redis.connection';
import { UnackedRestorer } from './redis.restorer';
import { AckBatcher } from './redis-ack.batcher';
import { RedisResultWrite } from '../../transports/redis/result-write';
import { DeliverySettler, RedisDelivery, deadLetterRecord } from './redis.delivery';
import { RESERVE_SCRIPT } from './lua/reserve.script';
import { DEAD_LETTER_SCRIPT } from './lua/dead-letter.script';
import { DEFER_SCRIPT } from './lua/defer.script';
import { watchBlocking } from '../../transports/redis/blocking.watchdog';

/** An error Redis answered (as opposed to a socket that failed), e.g. NOSCRIPT or WRONGTYPE. */
const isReplyError = (err: Error): boolean => err.name === 'ReplyError';

const STUCK =
  'A blocking wait got no answer 5 s past its timeout: the connection looks dead; reconnecting it and the command connection.';

/** How long the receipt of a reserve call is kept: far longer than any reconnect. */
const RECEIPT_TTL_MS = 600_000;
/** The shortest blocking wait, in seconds (BLMOVE takes fractions; 0 would block forever). */
const MIN_WAIT_S = 0.01;

export interface RedisConsumerDeps {
  /** This consumer's own connection: reserve script and the blocking wait. */
  conn: Redis;
  /** The broker's command connection: acks, dead letters, restores. */
  cmd: Redis;
  cmdGate: ReadyGate;
  keys: RedisKeys;
  acks: AckBatcher;
  /** `redisServerId` of the broker's endpoint: results on the same one are stored with the ack. */
  server: string;
  restorer: UnackedRestorer;
  /** Seconds of one blocking wait. */
  blockTimeout: number;
  /** Seconds between visibility-timeout restores. */
  restoreInterval: number;
  /** Milliseconds stop() may spend on Redis during an outage (the broker's publishTimeout). */
  closeTimeout: number;
  logger: Logger;
  /** Declares a queue kombu's way (its binding), for queues added while consuming. */
  declare(queue: string): Promise<void>;
}

/**
 * Takes messages from kombu's lists without ever holding one that Redis does not know about.
 *
 * Loop: while there is room under `prefetch`, run the reserve script (pop up to `room` messages
 * across the queues' priority buckets and register them in unacked, atomically). When it finds fewer
 * than it asked for, the next one waits first: `BLMOVE key key RIGHT RIGHT <blockTimeout>` with the
 * script pipelined right behind it. Moving the last item of a list to where it already is changes
 * nothing (order kept, never out of the list, so a crash here loses nothing), yet it blocks until the
 * list is non-empty, so an idle consumer costs no polling, and the message that ends the wait is
 * registered and returned in that same round trip. BLMOVE watches one list (the base bucket of one
 * queue, taken in turn); messages in other buckets or queues are seen within `blockTimeout`, which
 * kombu's BRPOP loop also uses.
 *
 * A reserve whose reply is lost (socket closed mid-call) may have run: its tags are in a receipt
 * key, and we restore them to their queues before reserving again, instead of leaving them in
 * unacked until the visibility timeout.
 */
export class RedisConsumer implements Consumer, DeliverySettler {
  readonly id = randomUUID();
  private readonly unsettled = new Map<string, RedisDelivery>();
  private stopped = false;
  private phase: 'idle' | 'reserve' | 'wait' = 'idle';
  private wake: (() => void) | null = null;
  private turn = 0;
  private seq = 0;
  private lostReserve: number | null = null;
  /** The earliest due time (ms) in our queues' delayed sets at the last reserve; -1 when none. */
  private nextDue = -1;
  private loopDone: Promise<void> = Promise.resolve();
  private restoreTimer: NodeJS.Timeout | null = null;
  private restoring = false;
  private readonly gate: ReadyGate;
  private readonly receiptKey: string;
  /**
   * The most one reserve takes: a quarter of a large prefetch (at least 32), so that several
   * batches are in flight at once (one being run, one being stored, one being reserved) instead of
   * all of them moving in lockstep, which left the worker idle a third of the time in the bench.
   */
  private batchMax = 1;
  /** Queues and prefetch change at run time (remote control), so they are copied from the options. */
  private readonly served: string[];
  private prefetch = 1;

  constructor(
    private readonly deps: RedisConsumerDeps,
    options: ConsumeOptions,
    private readonly handler: DeliveryHandler,
  ) {
    this.gate = new ReadyGate(deps.conn);
    this.receiptKey = deps.keys.reserveReceipt(this.id);
    this.served = [...options.queues];
    this.applyPrefetch(options.prefetch);
  }

  private applyPrefetch(prefetch: number): void {
    checkPrefetch(prefetch);
    this.prefetch = prefetch;
    this.batchMax = Math.max(Math.min(prefetch, 32), Math.ceil(prefetch / 4));
  }

  get queues(): readonly string[] {
    return this.served;
  }

  /** The new queue is served from the next reserve; an idle wait notices it within `blockTimeout`. */
  async addQueue(queue: string): Promise<void> {
    if (this.served.includes(queue)) return;
    await this.deps.declare(queue);
    this.served.push(queue);
    this.wake?.();
  }

  /** Reserves no longer name the queue; an idle wait on it just returns to a reserve without it. */
  async cancelQueue(queue: string): Promise<void> {
    const i = this.served.indexOf(queue);
    if (i >= 0) this.served.splice(i, 1);
  }

  async setPrefetch(prefetch: number): Promise<void> {
    this.applyPrefetch(prefetch);
    this.wake?.();
  }

  /** Restores expired unacked messages, then consumes; restores again every `restoreInterval`. */
  async start(): Promise<void> {
    await this.restoreVisible();
    this.loopDone = this.loop();
    this.restoreTimer = setInterval(() => void this.restoreVisible(), this.deps.restoreInterval * 1000);
    this.restoreTimer.unref();
  }

  async stop(): Promise<void> {
    if (!this.stopped) {
      this.stopped = true;
      if (this.restoreTimer) clearInterval(this.restoreTimer);
      this.wake?.();
      // Only a blocking wait is cut short; a reserve in flight is let finish, so its batch is delivered.
      if (this.phase === 'wait' || this.deps.conn.status !== 'ready') void closeConnection(this.deps.conn, true);
      this.gate.failAll(new Error('consumer stopped'));
    }
    await this.loopDone;
    await this.recoverLostReserve(Date.now() + this.deps.closeTimeout, true).catch(() => undefined);
    await closeConnection(this.deps.conn);
  }

  /** Deliveries handed out and not settled yet. */
  get inFlight(): number {
    return this.unsettled.size;
  }

  /** For close(): puts every unsettled delivery back at the front of its queue, marked redelivered. */
  async returnUnsettled(deadline: number): Promise<number> {
    const tags: string[] = [];
    for (const d of this.unsettled.values()) if (d.claim()) tags.push(d.tag);
    this.unsettled.clear();
    // Newest first, as kombu: each RPUSH goes in front of the last, so the oldest is served first again.
    tags.reverse();
    return tags.length ? this.deps.restorer.restoreTags(tags, 'R', deadline) : 0;
  }

  // ---- settling (called by RedisDelivery) ----

  ack(d: RedisDelivery): Promise<void> {
    this.forget(d);
    return this.deps.acks.ack(d.tag);
  }

  sameServer(server: string): boolean {
    return server === this.deps.server;
  }

  ackWithResult(d: RedisDelivery, write: RedisResultWrite): Promise<void> {
    this.forget(d);
    return this.deps.acks.ackWithResult(d.tag, write);
  }

  async requeue(d: RedisDelivery): Promise<void> {
    this.forget(d);
    await this.deps.restorer.restoreTags([d.tag], 'L');
  }

  /**
   * Moves the delivery from unacked to its queue's delayed set in one script. When the entry is
   * already gone (a visibility-timeout restore put it back on the queue), nothing is added, so
   * the message exists once. Idempotent, so it is simply run again after a lost reply.
   */
  async defer(d: RedisDelivery, at: Date): Promise<boolean> {
    this.forget(d);
    const { keys, cmd } = this.deps;
    const moved = await withReconnect(
      cmd,
      this.deps.cmdGate,
      Infinity,
      () => '',
      () =>
        DEFER_SCRIPT.run<number>(
          cmd,
          [keys.unacked, keys.unackedIndex, keys.delayed(d.queue)],
          [d.tag, at.getTime(), d.raw],
        ),
    );
    return moved === 1;
  }

  async deadLetter(d: RedisDelivery, reason: string): Promise<void> {
    this.forget(d);
    const { keys, cmd } = this.deps;
    const dlq = keys.list(deadLetterQueueOf(d.queue));
    const record = deadLetterRecord(d, reason);
    // Idempotent: a second run finds the entry gone and pushes nothing.
    await withReconnect(
      cmd,
      this.deps.cmdGate,
      Infinity,
      () => '',
      () => DEAD_LETTER_SCRIPT.run(cmd, [keys.unacked, keys.unackedIndex, dlq], [d.tag, record]),
    );
  }

  private forget(d: RedisDelivery): void {
    this.unsettled.delete(d.tag);
    this.wake?.();
  }

  // ---- the loop ----

  private async loop(): Promise<void> {
    let lastError = '';
    // After a reserve that found fewer than it asked for, every bucket was empty at that instant:
    // the next reserve goes behind a blocking wait instead of costing a round trip that finds nothing.
    let waitFirst = false;
    while (!this.stopped) {
      const room = this.prefetch - this.unsettled.size;
      if (room <= 0 || !this.served.length) {
        await new Promise<void>((r) => (this.wake = r));
        this.wake = null;
        // Let the rest of this turn's settlements land first: one larger reserve, not many of one.
        await new Promise<void>((r) => setImmediate(r));
        continue;
      }
      try {
        await this.gate.wait(Infinity, () => '');
        if (this.stopped) break;
        if (this.lostReserve !== null) await this.recoverLostReserve(Infinity);
        // Before a wait, let this turn's settlements go out first: the ack batcher flushes on an
        // immediate set while the delivered tasks ran, after ours; a second hop comes after it, so the
        // result of the task just run is not queued behind the wait's write.
        if (waitFirst) for (let hop = 0; hop < 2; hop++) await new Promise<void>((r) => setImmediate(r));
        if (this.stopped) break;
        this.phase = waitFirst ? 'wait' : 'reserve';
        const asked = Math.min(room, this.batchMax);
        waitFirst = (await this.reserve(asked, waitFirst)) < asked;
        lastError = '';
      } catch (err) {
        waitFirst = false;
        if (this.stopped) break;
        if (err instanceof ConnectionLostError) continue; // the gate waits for the reconnect
        const msg = (err as Error).message;
        if (msg !== lastError) this.deps.logger.error(`Consuming ${this.served.join(', ')} failed: ${msg}. Retrying.`);
        lastError = msg;
        await new Promise((r) => setTimeout(r, this.deps.blockTimeout * 1000));
      } finally {
        this.phase = 'idle';
      }
    }
  }

  /**
   * How long an idle wait may block: `blockTimeout`, or less when a delayed message of our queues
   * falls due sooner (the next reserve moves it). Never 0, which would mean forever.
   */
  private waitSeconds(): number {
    const block = this.deps.blockTimeout;
    if (this.nextDue < 0) return block;
    return Math.min(block, Math.max(MIN_WAIT_S, Math.ceil(this.nextDue - Date.now() + 1) / 1000));
  }

  /** kombu's order: priority step first, then the queues, rotated round-robin after each hit. */
  private servingOrder(): { keys: string[]; queues: string[]; delayed: string[] } {
    const qs = this.served;
    const rotated = qs.map((_, i) => qs[(this.turn + i) % qs.length]);
    const keys: string[] = [];
    const queues: string[] = [];
    for (const step of PRIORITY_STEPS) {
      for (const q of rotated) {
        keys.push(this.deps.keys.bucket(q, step));
        queues.push(q);
      }
    }
    return { keys, queues, delayed: rotated.map((q) => this.deps.keys.delayed(q)) };
  }

  /**
   * Runs the reserve script. With `afterWait`, first blocks with `BLMOVE key key RIGHT RIGHT` on the
   * base bucket of one served queue, the script written right behind it in the same packet: Redis
   * reads a client's next command only once its blocking command is answered, so the script runs the
   * moment a message arrives (or the wait times out), with no round trip between the two. The wait
   * pops nothing, so no crash window opens: the message is in its list until the script registers it.
   */
  private async reserve(room: number, afterWait: boolean): Promise<number> {
    const { conn, keys } = this.deps;
    const order = this.servingOrder();
    const seq = ++this.seq;
    // A script queued behind a wait runs up to `blockTimeout` later, so it reads the server's clock
    // (-1) for due times and the unacked_index score (kombu scores with its host's clock).
    const now = afterWait ? -1 : Date.now();
    const scriptKeys = [keys.unacked, keys.unackedIndex, this.receiptKey, ...order.delayed, ...order.keys];
    const scriptArgs = [
      room,
      now < 0 ? '-1' : (now / 1000).toFixed(6),
      `${this.id}.${seq}.`,
      String(seq),
      RECEIPT_TTL_MS,
      now,
      order.delayed.length,
      ...order.queues,
    ];
    let reply: (string | number)[];
    let waitError: Error | null = null;
    try {
      if (afterWait) {
        const key = keys.bucket(this.served[this.turn % this.served.length]);
        const seconds = this.waitSeconds();
        const replies = await untilClosed(
          conn,
          watchBlocking(
            conn,
            conn
              .pipeline()
              .blmove(key, key, 'RIGHT', 'RIGHT', seconds)
              .evalsha(RESERVE_SCRIPT.sha, scriptKeys.length, ...scriptKeys, ...scriptArgs)
              .exec(),
            seconds,
            { onStuck: () => this.deps.logger.warn(STUCK), alsoReconnect: [this.deps.cmd] },
          ),
        );
        const [[waitErr], [scriptErr, scriptReply]] = replies as [[Error | null], [Error | null, unknown]];
        // A pipeline reports a dropped socket per command instead of rejecting: the script may have run.
        if ((waitErr && !isReplyError(waitErr)) || (scriptErr && !isReplyError(scriptErr)))
          throw new ConnectionLostError();
        waitError = waitErr;
        if (scriptErr && !/NOSCRIPT/.test(scriptErr.message)) throw scriptErr;
        // NOSCRIPT (a restarted server): EVAL at once, not EVALSHA again.
        reply = scriptErr
          ? ((await untilClosed(
              conn,
              conn.eval(RESERVE_SCRIPT.lua, scriptKeys.length, ...scriptKeys, ...scriptArgs),
            )) as (string | number)[])
          : (scriptReply as (string | number)[]);
      } else {
        reply = await untilClosed(conn, RESERVE_SCRIPT.run<(string | number)[]>(conn, scriptKeys, scriptArgs));
      }
    } catch (err) {
      if (err instanceof ConnectionLostError) this.lostReserve = seq;
      throw err;
    }
    this.nextDue = Number(reply[0]);
    const flat = reply.slice(2);
    if (flat.length) this.turn++;
    const cancelled: string[] = [];
    for (let i = 0; i < flat.length; i += 3) {
      const queue = order.queues[Number(flat[i]) - 1];
      // A queue cancelled while this reserve waited (cancel_consumer): its messages go back, unrun.
      if (!this.served.includes(queue)) {
        cancelled.push(String(flat[i + 1]));
        continue;
      }
      const delivery = new RedisDelivery(queue, String(flat[i + 1]), String(flat[i + 2]), this);
      this.unsettled.set(delivery.tag, delivery);
      try {
        this.handler(delivery);
      } catch (err) {
        this.deps.logger.error(`The delivery handler threw for a message from ${queue}: ${(err as Error).message}`);
      }
    }
    // Newest first, so that each goes back in front of the one after it: the queue's order is kept.
    if (cancelled.length) await this.deps.restorer.restoreTags(cancelled.reverse(), 'R');
    // The wait's own error (not a lost socket) is raised after its script's messages are delivered.
    if (waitError) throw waitError;
    return flat.length / 3;
  }

  /** After a reserve reply was lost: if the script ran (its receipt says so), give those messages back. */
  private async recoverLostReserve(deadline: number, always = false): Promise<void> {
    const seq = this.lostReserve;
    if (seq === null) {
      if (always)
        await withReconnect(
          this.deps.cmd,
          this.deps.cmdGate,
          deadline,
          () => '',
          () => this.deps.cmd.del(this.receiptKey),
        );
      return;
    }
    const { cmd, cmdGate } = this.deps;
    const receipt = await withReconnect(
      cmd,
      cmdGate,
      deadline,
      () => '',
      () => cmd.get(this.receiptKey),
    );
    const [head, ...tags] = (receipt ?? '').split('\n');
    if (receipt && head === String(seq) && tags.length) {
      const n = await this.deps.restorer.restoreTags(tags, 'R', deadline);
      this.deps.logger.warn(
        `A reserve reply from Redis was lost in a disconnect; ${n} message(s) it had taken were put back on their queues.`,
      );
    }
    this.lostReserve = null;
    await withReconnect(
      cmd,
      cmdGate,
      deadline,
      () => '',
      () => cmd.del(this.receiptKey),
    );
  }

  private async restoreVisible(): Promise<void> {
    if (this.restoring) return;
    this.restoring = true;
    try {
      const n = await this.deps.restorer.restoreVisible();
      if (n) this.deps.logger.log(`Restored ${n} unacknowledged message(s) whose visibility timeout had passed.`);
    } catch (err) {
      this.deps.logger.warn(`Restoring unacknowledged messages failed: ${(err as Error).message}. Will retry.`);
    } finally {
      this.restoring = false;
    }
  }
}
