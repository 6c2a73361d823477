import { ConfigurableModuleBuilder } from '@nestjs/common';
import { TaskQueueModuleOptions } from './options/task-queue-options';

export const {
  ConfigurableModuleClass: TaskQueueConfigurableModule,
  MODULE_OPTIONS_TOKEN: TASK_QUEUE_MODULE_OPTIONS,
  OPTIONS_TYPE: TASK_QUEUE_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: TASK_QUEUE_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<TaskQueueModuleOptions>({ moduleName: 'TaskQueue' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createTaskQueueOptions')
  .setExtras({ isGlobal: false }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
  .build();
