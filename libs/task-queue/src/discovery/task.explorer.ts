import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper';
import { TaskDefinitionError } from '../errors';
import { TaskRegistry } from '../registry/task.registry';
import { getSharedTaskMetadata, getTaskContextIndex, getTaskEventListener, taskNameOf } from './task-metadata.accessor';
import { TaskEvents } from '../events/task.events';
import { TaskContextHost } from '../context/task-context.host';
import { paramNamesOf } from './param-names';

/**
 * Finds every @SharedTask method on every provider and controller at bootstrap and registers it.
 * Runs in onModuleInit, so the registry is complete before the worker's listen() takes a message.
 */
@Injectable()
export class TaskExplorer implements OnModuleInit {
  private readonly logger = new Logger('TaskQueue');

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly registry: TaskRegistry,
    private readonly events: TaskEvents,
    private readonly contextHost: TaskContextHost,
  ) {}

  private explored = false;

  onModuleInit(): void {
    // Once: NestMicroservice.init() in Nest 11 runs the init hooks twice (init(), then registerModules()).
    if (this.explored) return;
    this.explored = true;
    const wrappers = [...this.discovery.getProviders(), ...this.discovery.getControllers()];
    const seen = new Set<unknown>();
    for (const wrapper of wrappers) {
      const instance = wrapper.instance as Record<string, unknown> | undefined;
      if (!instance || typeof instance !== 'object' || wrapper.isAlias || seen.has(instance)) continue;
      const proto = Object.getPrototypeOf(instance) as object | null;
      if (!proto) continue;
      seen.add(instance);
      if (injects(wrapper, TaskContextHost)) this.contextHost.enable();
      for (const method of this.scanner.getAllMethodNames(proto)) this.explore(wrapper, instance, method);
    }
  }

  private explore(wrapper: InstanceWrapper, instance: Record<string, unknown>, method: string): void {
    const fn = instance[method];
    if (typeof fn !== 'function') return;
    const listenTo = getTaskEventListener(fn);
    if (listenTo)
      for (const event of listenTo) this.events.on(event, (payload) => (fn as Function).call(instance, payload));
    const meta = getSharedTaskMetadata(fn);
    if (!meta) return;
    const className = (instance.constructor as { name: string }).name;
    const source = `${className}.${method}`;
    if (!wrapper.isDependencyTreeStatic()) {
      throw new TaskDefinitionError(
        `@SharedTask ${source} is on a request-scoped (or transient-dependent) provider. A task runs outside any HTTP request, ` +
          `so it needs a singleton provider: remove { scope: Scope.REQUEST } from ${className} and its dependencies, or move the task to a singleton service.`,
      );
    }
    const name = taskNameOf(className, method, meta);
    this.registry.register({
      name,
      options: meta,
      source,
      instance,
      paramNames: meta.argNames ?? paramNamesOf(fn as Function),
      contextIndex: getTaskContextIndex(Object.getPrototypeOf(instance), method),
      invoke: (args) => (fn as Function).apply(instance, args),
    });
    this.logger.debug(`Registered task ${name} (${source})`);
  }
}

/** Does this provider (one of the app's, not the library's own) take `token` in its constructor, by type or by @Inject? */
function injects(wrapper: InstanceWrapper, token: unknown): boolean {
  const type = wrapper.metatype as unknown;
  if (typeof type !== 'function' || wrapper.instance === undefined) return false;
  if (wrapper.host?.metatype?.name === 'TaskQueueModule') return false;
  const params = (Reflect.getMetadata('design:paramtypes', type) as unknown[] | undefined) ?? [];
  const explicit = ((Reflect.getMetadata('self:paramtypes', type) as Array<{ param: unknown }> | undefined) ?? []).map(
    (p) => p.param,
  );
  return [...params, ...explicit].includes(token) && type !== TaskContextHost;
}
