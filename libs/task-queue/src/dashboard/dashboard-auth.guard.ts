import {
  CanActivate,
  ExecutionContext,
  ForbiddenException,
  Inject,
  Injectable,
  Optional,
  UnauthorizedException,
} from '@nestjs/common';
import { timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';
import { DASHBOARD_OPTIONS, DASHBOARD_USER_GUARD, TaskQueueDashboardOptions } from './dashboard.options';
import { CSRF_COOKIE, CSRF_HEADER, cookieOf } from './dashboard-session';

/**
 * Every dashboard route: HTTP Basic when `basicAuth` is set, then the app's own guard. Actions
 * (POST) also need: not read-only, a same-origin `Origin` when the browser sends one, and the
 * session's CSRF token in the `x-csrf-token` header equal to its SameSite=Strict cookie
 * (double submit: another site can neither read the cookie nor set the header).
 */
@Injectable()
export class DashboardAuthGuard implements CanActivate {
  constructor(
    @Inject(DASHBOARD_OPTIONS) private readonly options: TaskQueueDashboardOptions,
    @Optional() @Inject(DASHBOARD_USER_GUARD) private readonly userGuard: CanActivate | null,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const req = ctx.switchToHttp().getRequest<Request>();
    const res = ctx.switchToHttp().getResponse<Response>();
    if (this.options.basicAuth?.length && !this.basicOk(req.headers.authorization)) {
      res.setHeader('WWW-Authenticate', 'Basic realm="taskq dashboard", charset="UTF-8"');
      throw new UnauthorizedException('This dashboard needs a user name and password.');
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      if (this.options.readOnly) throw new ForbiddenException('The dashboard is read-only: actions are turned off.');
      const origin = req.headers.origin;
      if (origin && hostOf(origin) !== req.headers.host) throw new ForbiddenException('Cross-origin request refused.');
      const cookie = cookieOf(req.headers.cookie, CSRF_COOKIE);
      const header = req.headers[CSRF_HEADER];
      if (!cookie || typeof header !== 'string' || !same(cookie, header))
        throw new ForbiddenException('Missing or wrong CSRF token: reload the dashboard page.');
    }
    if (this.userGuard) return (await this.userGuard.canActivate(ctx)) as boolean;
    return true;
  }

  private basicOk(header: string | undefined): boolean {
    const m = /^Basic\s+(.+)$/i.exec(header ?? '');
    if (!m) return false;
    const given = Buffer.from(m[1], 'base64').toString('utf8');
    let ok = false;
    // Compare with every pair, always, so the time taken does not tell which user exists.
    for (const pair of this.options.basicAuth ?? []) ok = same(pair, given) || ok;
    return ok;
  }
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The host:port of an Origin header; null for `null` and anything unreadable (refused). */
function hostOf(origin: string): string | null {
  try {
    return new URL(origin).host;
  } catch {
    return null;
  }
}
