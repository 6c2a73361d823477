import { ConfigurationError } from '../errors';

/**
 * Requires an optional peer dependency (ioredis, amqplib) the first time a URL needs it. The package
 * declares them as optional peers so that an app installs only the driver it uses; when it is
 * missing, the app fails at boot with what to install instead of a bare "Cannot find module".
 */
export function requireOptionalPeer<T>(name: string, neededFor: string): T {
  try {
    return require(name) as T;
  } catch (err) {
    if (isMissing(err, name)) throw missingPeerError(name, neededFor, err);
    throw err;
  }
}

/** Fails like requireOptionalPeer when `name` cannot be found, without loading it. */
export function assertOptionalPeer(name: string, neededFor: string): void {
  try {
    require.resolve(name);
  } catch (err) {
    if (isMissing(err, name)) throw missingPeerError(name, neededFor, err);
    throw err;
  }
}

function missingPeerError(name: string, neededFor: string, cause: unknown): ConfigurationError {
  return new ConfigurationError(
    `${neededFor} needs the "${name}" package, which is not installed. Install it next to nestjs-celery: npm install ${name}`,
    { cause },
  );
}

/** True when `name` itself is missing (not one of its own imports). */
function isMissing(err: unknown, name: string): boolean {
  const e = err as { code?: string; message?: string };
  return e?.code === 'MODULE_NOT_FOUND' && (e.message ?? '').includes(`'${name}'`);
}
