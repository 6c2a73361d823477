import {
  Body,
  Controller,
  Get,
  Header,
  HttpCode,
  Inject,
  MessageEvent,
  NotFoundException,
  Param,
  Post,
  Query,
  Req,
  Res,
  Sse,
  UseGuards,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import { Observable, bufferTime, filter, map } from 'rxjs';
import { Broker } from '../brokers/broker.interface';
import { TaskMonitor } from '../monitor/task-monitor.service';
import { TaskFilter } from '../monitor/task-record';
import { TASK_QUEUE_BROKER } from '../task-queue.constants';
import { DashboardActions } from './dashboard.actions';
import { publicAsset, vendorAsset } from './dashboard.assets';
import { DashboardAuthGuard } from './dashboard-auth.guard';
import { DASHBOARD_OPTIONS, TaskQueueDashboardOptions } from './dashboard.options';
import { CSRF_COOKIE, cookieOf, maskSecrets, newCsrfToken } from './dashboard-session';
import { PeriodicEntriesReader } from './periodic-entries.reader';

/**
 * Records one task-list request looks at, newest first (within the time window when one is given):
 * the page refreshes live, so a filter that matches little must not read 100,000 records each time.
 */
const SCAN_LIMIT = 20_000;

/** The dashboard's page, its JSON API, the live stream and /metrics, all behind DashboardAuthGuard. */
@Controller()
@UseGuards(DashboardAuthGuard)
export class DashboardController {
  constructor(
    private readonly monitor: TaskMonitor,
    private readonly actions: DashboardActions,
    @Inject(TASK_QUEUE_BROKER) private readonly broker: Broker,
    @Inject(DASHBOARD_OPTIONS) private readonly options: TaskQueueDashboardOptions,
    private readonly periodic: PeriodicEntriesReader,
  ) {}

  @Get()
  index(@Req() req: Request, @Res() res: Response): void {
    const page = publicAsset('index.html')!;
    // Relative URLs of the page resolve under the mount path, with or without a trailing slash.
    const path = (req.originalUrl.split('?')[0] || '/').replace(/\/?$/, '/');
    res.setHeader(
      'Content-Security-Policy',
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'",
    );
    res.type('html').send(page.body.toString('utf8').replace('<base href="/">', `<base href="${encodeURI(path)}">`));
  }

  @Get('assets/:file')
  asset(@Param('file') file: string, @Res() res: Response): void {
    this.send(res, publicAsset(file));
  }

  @Get('vendor/:file')
  vendor(@Param('file') file: string, @Res() res: Response): void {
    this.send(res, vendorAsset(file));
  }

  /** Starts a browser session: the CSRF cookie (SameSite=Strict, HttpOnly) and the token the page sends back in a header. */
  @Get('api/session')
  session(@Req() req: Request, @Res({ passthrough: true }) res: Response): Record<string, unknown> {
    let token = cookieOf(req.headers.cookie, CSRF_COOKIE);
    if (!token) {
      token = newCsrfToken();
      res.cookie(CSRF_COOKIE, token, { httpOnly: true, sameSite: 'strict', path: '/', secure: req.secure });
    }
    return { csrf: token, readOnly: !!this.options.readOnly, broker: maskSecrets(this.broker.describe()) };
  }

  @Get('api/workers')
  workers(): Record<string, unknown> {
    return { workers: this.monitor.workers(), throughput: this.monitor.throughput() };
  }

  @Get('api/queues')
  async queues(@Query('refresh') refresh?: string): Promise<Record<string, unknown>> {
    return { queues: refresh ? await this.monitor.refreshQueues() : this.monitor.queues() };
  }

  @Get('api/queues/:queue/dead-letters')
  async deadLetters(@Param('queue') queue: string): Promise<Record<string, unknown>> {
    const letters = await this.broker.readDeadLetters(queue, 100);
    return {
      deadLetters: letters.map((l) => ({
        at: l.at,
        reason: l.reason,
        taskId: l.message.headers.id ?? null,
        task: l.message.headers.task ?? null,
        body: l.message.body.toString('utf8').slice(0, 2000),
      })),
    };
  }

  @Get('api/tasks')
  async tasks(@Query() q: Record<string, string>): Promise<Record<string, unknown>> {
    const f: TaskFilter = {
      state: q.state || undefined,
      name: q.name || undefined,
      worker: q.worker || undefined,
      root: q.root || undefined,
      search: q.search || undefined,
      from: timeOf(q.from),
      to: timeOf(q.to),
      limit: Math.min(Number(q.limit) || 100, 1000),
      offset: Number(q.offset) || 0,
      scanLimit: SCAN_LIMIT,
    };
    return { tasks: await this.monitor.tasks(f), total: await this.monitor.history.size(), scanLimit: SCAN_LIMIT };
  }

  @Get('api/tasks/:id')
  async task(@Param('id') id: string): Promise<Record<string, unknown>> {
    const task = await this.monitor.task(id);
    if (!task) throw new NotFoundException(`No task ${id} in the history or the result backend.`);
    // The other tasks of its workflow: looked for within an hour either side of it (workflows run close together).
    const around = task.received ?? Date.now();
    const family =
      task.rootId || task.children.length
        ? await this.monitor.tasks({
            root: task.rootId ?? task.id,
            limit: 200,
            from: around - 3_600_000,
            to: around + 3_600_000,
            scanLimit: SCAN_LIMIT,
          })
        : [];
    return { task, family };
  }

  @Get('api/periodic')
  async periodicEntries(): Promise<Record<string, unknown>> {
    return { ...(await this.periodic.read()), canEdit: this.periodic.canEdit };
  }

  /** Live changes, batched every 250 ms; the page refreshes what it shows. */
  @Sse('api/stream')
  stream(): Observable<MessageEvent> {
    return this.monitor.updates.pipe(
      bufferTime(250),
      filter((b) => b.length > 0),
      map((b) => ({
        data: b.map((u) =>
          u.kind === 'event'
            ? { kind: 'event', type: u.event.type, hostname: u.event.hostname, uuid: u.event.uuid ?? null }
            : u,
        ),
      })),
    );
  }

  @Get('metrics')
  async metrics(@Res() res: Response): Promise<void> {
    res.setHeader('Content-Type', this.monitor.metrics.contentType);
    res.send(await this.monitor.metrics.text());
  }

  @Post('api/actions/:name')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  action(@Param('name') name: string, @Body() body: Record<string, unknown>): Promise<unknown> {
    return this.actions.run(name, body ?? {});
  }

  private send(res: Response, a: ReturnType<typeof publicAsset>): void {
    if (!a) throw new NotFoundException();
    res.setHeader('Content-Type', a.type);
    res.setHeader('Cache-Control', 'no-cache');
    res.send(a.body);
  }
}

/** A time filter: ms since the epoch, or an ISO-8601 time. */
function timeOf(v: string | undefined): number | undefined {
  if (!v) return undefined;
  const n = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  return Number.isFinite(n) ? n : undefined;
}
