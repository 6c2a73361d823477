import { ConfigurationError } from '../errors';
import { assertOptionalPeer, requireOptionalPeer } from './optional-peer.loader';

describe('optional peers', () => {
  it('says what to install when a driver is missing', () => {
    expect(() => requireOptionalPeer('tq-no-such-driver', 'The broker URL redis://')).toThrow(ConfigurationError);
    expect(() => requireOptionalPeer('tq-no-such-driver', 'The broker URL redis://')).toThrow(
      'The broker URL redis:// needs the "tq-no-such-driver" package, which is not installed. Install it next to nestjs-celery: npm install tq-no-such-driver',
    );
    expect(() => assertOptionalPeer('tq-no-such-driver', 'An amqp:// URL')).toThrow('npm install tq-no-such-driver');
  });

  it('loads an installed driver', () => {
    expect(typeof requireOptionalPeer<unknown>('ioredis', 'x')).toBe('function');
    expect(() => assertOptionalPeer('amqplib', 'x')).not.toThrow();
  });
});
