import { Reject, RetryError, SoftTimeLimitExceededError } from '../errors';
import { exceptionInfo } from '../protocol/exception-info';
import { decodeError, encodeError } from './pool-error.codec';

class RateLimited extends Error {}

const roundTrip = (e: unknown, known: Parameters<typeof decodeError>[1] = []) =>
  decodeError(structuredClone(encodeError(e)), known);

describe('pool error codec', () => {
  it('rebuilds the control-flow errors as their own classes', () => {
    const eta = new Date(Date.now() + 5000);
    const retry = roundTrip(new RetryError(eta, new TypeError('boom'))) as RetryError;
    expect(retry).toBeInstanceOf(RetryError);
    expect(retry.eta).toEqual(eta);
    expect(exceptionInfo(retry.exc)).toEqual({ exc_type: 'TypeError', exc_message: ['boom'], exc_module: 'builtins' });
    expect(roundTrip(new Reject('no', true))).toEqual(new Reject('no', true));
    expect(roundTrip(new SoftTimeLimitExceededError(2))).toBeInstanceOf(SoftTimeLimitExceededError);
  });

  it('keeps what a stored FAILURE needs, and the class named in autoretryFor', () => {
    const err = new RateLimited('slow down');
    const back = roundTrip(err, [RateLimited]) as Error;
    expect(back).toBeInstanceOf(RateLimited);
    expect(back.stack).toBe(err.stack);
    expect(exceptionInfo(back)).toEqual({ exc_type: 'Error', exc_message: ['slow down'], exc_module: 'nodejs' });
    expect(roundTrip('a string')).toBe('a string');
  });
});
