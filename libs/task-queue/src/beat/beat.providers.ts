import { Provider } from '@nestjs/common';
import { TASK_QUEUE_MODULE_OPTIONS } from '../task-queue.module-definition';
import { TASK_QUEUE_CONFIG } from '../task-queue.constants';
import { ResolvedTaskQueueOptions } from '../options/resolved-options';
import { TaskQueueModuleOptions } from '../options/task-queue-options';
import { TASK_QUEUE_BEAT_CONFIG } from './beat.constants';
import { resolveBeatOptions } from './beat.config';
import { BeatService } from './beat.service';

/** What TaskQueueModule registers for periodic tasks. */
export const BEAT_PROVIDERS: Provider[] = [
  {
    provide: TASK_QUEUE_BEAT_CONFIG,
    useFactory: (o: TaskQueueModuleOptions, c: ResolvedTaskQueueOptions) => resolveBeatOptions(o ?? {}, c),
    inject: [TASK_QUEUE_MODULE_OPTIONS, TASK_QUEUE_CONFIG],
  },
  BeatService,
];
