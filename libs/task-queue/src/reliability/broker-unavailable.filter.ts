import { ArgumentsHost, Catch, ExceptionFilter } from '@nestjs/common';
import { BrokerUnavailableError } from '../errors';

/**
 * Turns BrokerUnavailableError (the broker or backend is down: a publish or a read could not be
 * done in time) into HTTP 503 Service Unavailable with `Retry-After`, instead of Nest's generic 500.
 * The message is the library's, whose URLs are masked. Works with Express and Fastify.
 *
 * @example app.useGlobalFilters(new BrokerUnavailableFilter())  // or { provide: APP_FILTER, useClass: BrokerUnavailableFilter }
 */
@Catch(BrokerUnavailableError)
export class BrokerUnavailableFilter implements ExceptionFilter<BrokerUnavailableError> {
  /** @param retryAfterSeconds value of the Retry-After header. Default 5. */
  constructor(private readonly retryAfterSeconds = 5) {}

  catch(error: BrokerUnavailableError, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw error;
    const res = host.switchToHttp().getResponse<{
      status(code: number): unknown;
      header(name: string, value: string): unknown;
      send?(body: unknown): unknown;
      json?(body: unknown): unknown;
    }>();
    const body = { statusCode: 503, error: 'Service Unavailable', message: error.message };
    res.status(503);
    res.header('Retry-After', String(this.retryAfterSeconds));
    if (typeof res.json === 'function') res.json(body);
    else res.send?.(body);
  }
}
