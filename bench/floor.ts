/**
 * The RSS floor of a Nest worker: an empty Nest microservice (no module but an empty one, a custom
 * transport strategy that does nothing), started exactly like bench/worker.ts. Its idle RSS is what
 * any Nest microservice pays before the first line of a task queue; the driver prints ours beside it.
 * Sends { type: 'listening', mem } over IPC once it listens, then waits for 'stop'.
 */
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CustomTransportStrategy, Server } from '@nestjs/microservices';

class IdleStrategy extends Server implements CustomTransportStrategy {
  listen(callback: () => void): void {
    callback();
  }
  close(): void {}
  on(): void {}
  unwrap<T>(): T {
    return undefined as T;
  }
}

@Module({})
class EmptyModule {}

async function main(): Promise<void> {
  const app = await NestFactory.createMicroservice(EmptyModule, { strategy: new IdleStrategy(), logger: false });
  await app.listen();
  const mem = Object.fromEntries(Object.entries(process.memoryUsage()).map(([k, v]) => [k, +(v / 1048576).toFixed(1)]));
  process.send?.({ type: 'listening', mem });
  process.on('message', (m) => m === 'stop' && void app.close().then(() => process.exit(0)));
}

void main();
