import { Injectable, Module, Scope } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TaskQueueModule } from './task-queue.module';
import { SharedTask } from './decorators/shared-task.decorator';
import { TaskRegistry } from './registry/task.registry';
import { TaskClient } from './client/task.client';
import { TASK_QUEUE_CONFIG } from './task-queue.constants';
import { ResolvedTaskQueueOptions } from './options/resolved-options';
import { ConfigurationError, DuplicateTaskError, TaskDefinitionError } from './errors';

@Injectable()
class Greeter {
  greet(name: string): string {
    return `hello ${name}`;
  }
}

@Injectable()
class GreetingTasks {
  constructor(private readonly greeter: Greeter) {}

  @SharedTask()
  hello(name: string): string {
    return this.greeter.greet(name);
  }

  @SharedTask({ name: 'greet.loud', queue: 'loud' })
  loud(name: string): string {
    return this.greeter.greet(name).toUpperCase();
  }
}

@Module({ providers: [Greeter, GreetingTasks] })
class GreetingModule {}

@Injectable()
class OtherTasks {
  @SharedTask('greet.loud')
  shout(): string {
    return 'HEY';
  }
}

@Injectable({ scope: Scope.REQUEST })
class RequestScopedTasks {
  @SharedTask('scoped.task')
  run(): number {
    return 1;
  }
}

@Module({ providers: [{ provide: 'CONFIG', useValue: { broker: 'memory://from-factory' } }], exports: ['CONFIG'] })
class ConfigModule {}

async function boot(imports: unknown[], providers: unknown[] = []) {
  const moduleRef = await Test.createTestingModule({
    imports: imports as never[],
    providers: providers as never[],
  }).compile();
  return moduleRef.init();
}

describe('TaskQueueModule', () => {
  it('discovers @SharedTask methods in any module, with their dependencies injected', async () => {
    const app = await boot([TaskQueueModule.forRoot({}), GreetingModule]);
    const registry = app.get(TaskRegistry);
    expect(registry.appNames()).toEqual(['GreetingTasks.hello', 'greet.loud']);
    expect(registry.names()).toEqual(expect.arrayContaining(['celery.map', 'celery.starmap']));
    expect(registry.get('GreetingTasks.hello').invoke(['ada'])).toBe('hello ada');
    expect(registry.get('greet.loud').options.queue).toBe('loud');
    expect(registry.get('GreetingTasks.hello').paramNames).toEqual(['name']);
    await app.close();
  });

  it('forRootAsync takes options from an injected factory, and isGlobal exports the client everywhere', async () => {
    @Injectable()
    class Consumer {
      constructor(readonly client: TaskClient) {}
    }
    @Module({ providers: [Consumer] })
    class FeatureModule {}
    const app = await boot([
      TaskQueueModule.forRootAsync({
        imports: [ConfigModule],
        inject: ['CONFIG'],
        useFactory: (c: { broker: string }) => ({ brokerUrl: c.broker, defaultQueue: 'jobs' }),
        isGlobal: true,
      }),
      FeatureModule,
    ]);
    const config = app.get<ResolvedTaskQueueOptions>(TASK_QUEUE_CONFIG);
    expect(config).toMatchObject({
      brokerUrl: 'memory://from-factory',
      resultBackend: 'memory://from-factory',
      defaultQueue: 'jobs',
      resultExpires: 86400,
    });
    expect(config.worker.queues).toEqual(['jobs']);
    expect(app.get(Consumer).client).toBeInstanceOf(TaskClient);
    await app.close();
  });

  it('forRootAsync accepts useClass', async () => {
    @Injectable()
    class Options {
      createTaskQueueOptions() {
        return { brokerUrl: 'memory://use-class' };
      }
    }
    const app = await boot([TaskQueueModule.forRootAsync({ useClass: Options })]);
    expect(app.get<ResolvedTaskQueueOptions>(TASK_QUEUE_CONFIG).brokerUrl).toBe('memory://use-class');
    await app.close();
  });

  it('fails the boot on a duplicate task name, naming both places', async () => {
    const err = await boot([TaskQueueModule.forRoot({}), GreetingModule], [OtherTasks]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DuplicateTaskError);
    expect((err as Error).message).toMatch(
      /"greet\.loud" is declared twice: by (GreetingTasks\.loud and by OtherTasks\.shout|OtherTasks\.shout and by GreetingTasks\.loud)/,
    );
  });

  it('refuses a task on a request-scoped provider with a clear message', async () => {
    const err = await boot([TaskQueueModule.forRoot({})], [RequestScopedTasks]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TaskDefinitionError);
    expect((err as Error).message).toMatch(/RequestScopedTasks\.run is on a request-scoped .* provider.*singleton/);
  });

  it('fails at boot on an unknown broker or backend scheme, listing the supported ones', async () => {
    await expect(boot([TaskQueueModule.forRoot({ brokerUrl: 'kafka://localhost:9092' })])).rejects.toThrow(
      new ConfigurationError(
        'Unsupported broker URL scheme "kafka://" in brokerUrl. Supported: memory://, redis://, rediss://, sentinel://, amqp://, amqps://.',
      ),
    );
    await expect(boot([TaskQueueModule.forRoot({ resultBackend: 'db+postgresql://x' })])).rejects.toThrow(
      /Unsupported result backend URL scheme "db\+postgresql:\/\/".*memory:\/\/, redis:\/\/, rediss:\/\/, sentinel:\/\/, rpc:\/\//,
    );
  });
});
