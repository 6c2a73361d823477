import { AmqpBroker } from 'nestjs-celery/internal/brokers/amqp/amqp.broker';
import { RpcResultBackend } from 'nestjs-celery/internal/backends/rpc/rpc.backend';
import { ORIGIN, TaskMessage, buildTaskMessage, SendOptions } from 'nestjs-celery/internal/protocol/task-message';
import { AmqpTransportOptions } from 'nestjs-celery/internal/options/amqp-options';
import { ResolvedTaskQueueOptions } from 'nestjs-celery/internal/options/resolved-options';
import { TaskQueueModuleOptions } from 'nestjs-celery/internal/options/task-queue-options';
import { resolveOptions } from 'nestjs-celery/internal/options/resolve-options';
import { runPythonJson } from './python-celery';

/** Resolved options for a suite's vhost, with short bounds so failures show fast. */
export function amqpOptions(
  url: string,
  extra: TaskQueueModuleOptions = {},
  amqp: AmqpTransportOptions = {},
): ResolvedTaskQueueOptions {
  return resolveOptions({
    brokerUrl: url,
    resultBackend: 'rpc://',
    publishTimeout: 5000,
    ...extra,
    amqp: { reconnectDelay: 50, reconnectMaxDelay: 500, ...amqp },
  });
}

export function newBroker(
  url: string,
  extra: TaskQueueModuleOptions = {},
  amqp: AmqpTransportOptions = {},
): AmqpBroker {
  return new AmqpBroker(url, amqpOptions(url, extra, amqp));
}

export function newRpcBackend(url: string, extra: TaskQueueModuleOptions = {}): RpcResultBackend {
  return new RpcResultBackend('rpc://', amqpOptions(url, extra));
}

/** A complete v2 task message, as our client builds it. */
export function taskMessage(
  name: string,
  args: unknown[],
  kwargs: Record<string, unknown> = {},
  options: SendOptions = {},
  replyTo = 'no-reply',
): TaskMessage {
  return buildTaskMessage(name, args, kwargs, options, { replyTo, origin: ORIGIN });
}

/** Runs one command of test/python/amqp_tools.py against `url`. */
export function pyTool<T = unknown>(
  command: string,
  url: string,
  env: Record<string, string> = {},
  timeoutMs = 30_000,
): Promise<T> {
  return runPythonJson<T>(`import amqp_tools; amqp_tools.${command}()`, { TQ_BROKER: url, ...env }, timeoutMs);
}
