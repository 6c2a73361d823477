import { isAbsolute, resolve } from 'node:path';
import { ModulesContainer } from '@nestjs/core';
import { ConfigurationError } from '../errors';

/** The Nest module a pool worker boots: a file to require and the name it exports the module under. */
export interface PoolModuleRef {
  modulePath: string;
  exportName: string;
}

/**
 * Finds the module to boot in pool workers. With `worker.poolModule` (`path#Export`) that one;
 * otherwise the app's root module (the one NestFactory was given: the second in Nest's container,
 * after its internal core module), found in the require cache by identity. The root module must
 * live in its own file: requiring the entry file again would start a second worker inside the pool.
 */
export function locatePoolModule(spec: string, modules: ModulesContainer): PoolModuleRef {
  if (spec) {
    const [path, exportName] = spec.split('#');
    if (!path || !exportName)
      throw new ConfigurationError(`worker.poolModule must read 'path/to/file#ExportName', got '${spec}'.`);
    return { modulePath: isAbsolute(path) ? path : resolve(process.cwd(), path), exportName };
  }
  const root = [...modules.values()][1]?.metatype;
  const hint = "Set worker.poolModule to 'path/to/app.module#AppModule' (a module that provides the task's class).";
  if (!root) throw new ConfigurationError(`The pool cannot find the app's root module. ${hint}`);
  for (const [file, mod] of Object.entries(require.cache)) {
    const exports = mod?.exports as Record<string, unknown> | undefined;
    if (!exports || (typeof exports !== 'object' && typeof exports !== 'function')) continue;
    for (const name of Object.keys(exports)) {
      if (exports[name] !== root) continue;
      if (file === require.main?.filename) {
        throw new ConfigurationError(
          `The root module ${root.name} is declared in the entry file ${file}; a pool worker cannot load it without starting the app again. Move it to its own file, or: ${hint}`,
        );
      }
      return { modulePath: file, exportName: name };
    }
  }
  throw new ConfigurationError(
    `The pool cannot find the file that exports the root module ${root.name} (was it loaded through require?). ${hint}`,
  );
}
