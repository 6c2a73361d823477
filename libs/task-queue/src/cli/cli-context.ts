import { createBroker } from '../brokers/broker.factory';
import { createResultBackend } from '../backends/result-backend.factory';
import { Broker } from '../brokers/broker.interface';
import { ResultBackend } from '../backends/result-backend.interface';
import { TaskClient } from '../client/task.client';
import { TaskRegistry } from '../registry/task.registry';
import { TaskControl } from '../control/task-control';
import { CanvasPublisher } from '../canvas/canvas.publisher';
import { TaskPublisher } from '../publish/task.publisher';
import { ResolvedTaskQueueOptions } from '../options/resolved-options';
import { resolveOptions } from '../options/resolve-options';
import { connectionOptions, ConnectionFlags } from './connection-options';

export type { ConnectionFlags } from './connection-options';

export interface CliContext {
  config: ResolvedTaskQueueOptions;
  broker: Broker;
  backend: ResultBackend;
  client: TaskClient;
  control: TaskControl;
  close(): Promise<void>;
}

/** The broker, backend and a TaskClient, built without Nest: the CLI needs no app module. Refuses a missing broker. */
export function cliContext(flags: ConnectionFlags): CliContext {
  const config = resolveOptions(connectionOptions(flags));
  const broker = createBroker(config);
  const backend = createResultBackend(config);
  const control = new TaskControl(broker);
  const registry = new TaskRegistry();
  const publisher = new TaskPublisher(broker, config, registry);
  const client = new TaskClient(backend, control, publisher, new CanvasPublisher(backend, publisher, control));
  return {
    config,
    broker,
    backend,
    client,
    control,
    close: async () => {
      await Promise.allSettled([broker.close(), backend.close()]);
    },
  };
}
