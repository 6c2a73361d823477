#!/usr/bin/env node
'use strict';
// Raw amqplib anchor for `npm run bench`, adapted from the team's anchor scripts (raw_amqp.js) (phases
// pub_confirm_stream and con_prefetch100), with the prefetch as a parameter so it matches our
// worker's prefetch, and with a payload of the size of one of our Celery task messages.
//
//   node raw_amqp_consume.js --n 20000 --prefetch 400 --vhost <vhost> [--bytes 500]
//
// publish : N persistent messages on a ConfirmChannel, all in flight, then waitForConfirms().
// consume : one channel, basic.qos = --prefetch, manual ack of every message, until N are acked.
// One durable classic queue in the given vhost, deleted at the end. One JSON line on stdout.
const amqp = require('amqplib');
const ps = require('./lib/procstat');

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const N = Number(opt('n', 20000));
const PREFETCH = Number(opt('prefetch', 100));
const BYTES = Number(opt('bytes', 500));
const VHOST = opt('vhost', 'bench_anchors');
const URL = `amqp://guest:guest@127.0.0.1:5672/${encodeURIComponent(VHOST)}`;

const payload = (i) => {
  const base = JSON.stringify({
    id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    task: 'tasks.add',
    args: [i, i],
    kwargs: {},
  });
  return Buffer.from(base.length < BYTES ? base + ' '.repeat(BYTES - base.length) : base);
};

async function main() {
  const q = `rawbench.${process.pid}`;
  const out = {
    bench: 'raw_amqp_consume',
    n: N,
    prefetch: PREFETCH,
    payload_bytes: payload(0).length,
    noise: ps.noiseSnapshot(),
  };
  const conn = await amqp.connect(URL);
  const cch = await conn.createConfirmChannel();
  try {
    await cch.assertQueue(q, { durable: true });
    let m = new ps.CpuMeter().start();
    for (let i = 0; i < N; i++) {
      const ok = cch.publish('', q, payload(i), { persistent: true, contentType: 'application/json' }, () => {});
      if (!ok) await new Promise((r) => cch.once('drain', r));
    }
    await cch.waitForConfirms();
    let u = m.stop();
    out.publish = {
      per_s: ps.rate(N, u.wall_s),
      wall_s: u.wall_s,
      node_cpu_s: u.self_cpu_s,
      rabbitmq_cpu_s: u.rabbitmq_cpu_s,
    };
    await new Promise((r) => setTimeout(r, 500));
    const ch = await conn.createChannel();
    await ch.prefetch(PREFETCH);
    m = new ps.CpuMeter().start();
    let got = 0;
    let tag;
    await new Promise((resolve, reject) => {
      ch.on('error', reject);
      ch.consume(
        q,
        (msg) => {
          ch.ack(msg);
          if (++got === N) resolve();
        },
        { noAck: false },
      ).then((r) => {
        tag = r.consumerTag;
      }, reject);
    });
    u = m.stop();
    out.consume = {
      per_s: ps.rate(N, u.wall_s),
      wall_s: u.wall_s,
      node_cpu_s: u.self_cpu_s,
      rabbitmq_cpu_s: u.rabbitmq_cpu_s,
    };
    if (tag) await ch.cancel(tag);
    await ch.close();
    out.ok = true;
  } catch (e) {
    out.ok = false;
    out.error = String((e && e.stack) || e).slice(0, 2000);
  } finally {
    try {
      await cch.deleteQueue(q);
    } catch {}
    try {
      await conn.close();
    } catch {}
  }
  console.log(JSON.stringify(out));
}

main();
