import type { Channel, Message } from 'amqplib';

/**
 * Sends the acks of one event-loop turn on a channel with as few `basic.ack` frames as possible.
 *
 * RabbitMQ numbers a channel's deliveries 1, 2, 3…; `basic.ack(tag, multiple=true)` acks every
 * delivery up to `tag` still outstanding. So the acked run at the head of the outstanding tags goes
 * as ONE frame. Acks behind a delivery that is still being worked on are sent one by one at once,
 * never held back: after a crash no more is redelivered than with one ack per message.
 *
 * Rejects are sent at once by the caller and reported with `settledOtherwise`, so that the head
 * can move past them (a multiple ack never covers a delivery the server no longer has).
 */
export class AmqpAckCoalescer {
  /** Delivery tags in the order RabbitMQ handed them out (increasing), from `head` on not yet passed. */
  private outstanding: number[] = [];
  private head = 0;
  /** Acked here, not sent yet. */
  private readonly acked = new Set<number>();
  /** Settled on the wire already (rejected, or acked alone). */
  private readonly gone = new Set<number>();
  private scheduled = false;

  constructor(
    private readonly channel: Channel,
    /** Called when frames cannot be written (channel closed meanwhile): RabbitMQ will redeliver. */
    private readonly onDropped: (count: number, err: Error) => void,
  ) {}

  delivered(tag: number): void {
    this.outstanding.push(tag);
  }

  ack(tag: number): void {
    this.acked.add(tag);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  settledOtherwise(tag: number): void {
    this.gone.add(tag);
  }

  /** Writes what is pending now (also called before the channel is closed). */
  flush(): void {
    this.scheduled = false;
    if (!this.acked.size) return;
    let upTo = -1;
    while (this.head < this.outstanding.length) {
      const tag = this.outstanding[this.head];
      if (this.acked.delete(tag)) upTo = tag;
      else if (!this.gone.delete(tag)) break;
      this.head++;
    }
    const single = [...this.acked];
    this.acked.clear();
    try {
      if (upTo >= 0) this.channel.ack(frameFor(upTo), true);
      for (const tag of single) {
        this.channel.ack(frameFor(tag), false);
        this.gone.add(tag);
      }
    } catch (err) {
      this.onDropped(single.length + (upTo >= 0 ? 1 : 0), err as Error);
    }
    if (this.head > 1024 && this.head * 2 > this.outstanding.length) {
      this.outstanding = this.outstanding.slice(this.head);
      this.head = 0;
    }
  }
}

/** amqplib reads only `fields.deliveryTag` of the message it acks. */
function frameFor(deliveryTag: number): Message {
  return { fields: { deliveryTag } } as Message;
}
