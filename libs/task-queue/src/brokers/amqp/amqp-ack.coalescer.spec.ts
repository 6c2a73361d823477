import type { Channel, Message } from 'amqplib';
import { AmqpAckCoalescer } from './amqp-ack.coalescer';

/** Records the basic.ack frames amqplib would write. */
function recordingChannel(): { channel: Channel; frames: string[] } {
  const frames: string[] = [];
  const channel = {
    ack: (m: Message, multiple: boolean) => frames.push(`${m.fields.deliveryTag}${multiple ? '+' : ''}`),
  } as unknown as Channel;
  return { channel, frames };
}

describe('AmqpAckCoalescer', () => {
  it('acks the settled run at the head with one multiple frame, and the ones behind a busy delivery alone', () => {
    const { channel, frames } = recordingChannel();
    const acks = new AmqpAckCoalescer(channel, () => undefined);
    for (let tag = 1; tag <= 6; tag++) acks.delivered(tag);
    for (const tag of [1, 2, 3, 5]) acks.ack(tag);
    acks.flush();
    // 4 is still running: 1..3 go as one frame, 5 alone (never held back).
    expect(frames).toEqual(['3+', '5']);
    acks.ack(4);
    acks.ack(6);
    acks.flush();
    // 5 is gone on the wire already, so "up to 6" covers exactly 4 and 6.
    expect(frames).toEqual(['3+', '5', '6+']);
  });

  it('moves past rejected deliveries without ever covering one that is still outstanding', () => {
    const { channel, frames } = recordingChannel();
    const acks = new AmqpAckCoalescer(channel, () => undefined);
    for (let tag = 1; tag <= 4; tag++) acks.delivered(tag);
    acks.settledOtherwise(1);
    acks.ack(2);
    acks.flush();
    expect(frames).toEqual(['2+']);
    acks.ack(4);
    acks.flush();
    expect(frames).toEqual(['2+', '4']);
  });

  it('reports frames it could not write (channel closed) instead of throwing', () => {
    const channel = {
      ack: () => {
        throw new Error('Channel closed');
      },
    } as unknown as Channel;
    const dropped: number[] = [];
    const acks = new AmqpAckCoalescer(channel, (n) => dropped.push(n));
    acks.delivered(1);
    acks.ack(1);
    expect(() => acks.flush()).not.toThrow();
    expect(dropped).toEqual([1]);
  });
});
