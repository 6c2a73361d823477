import { Logger, LogLevel } from '@nestjs/common';

/**
 * Whether Nest would print this level, so the hot path can skip building per-task log lines
 * nobody sees. Nest's own `Logger.isLevelEnabled` answers false until an app sets levels, although
 * everything prints then; treat "no levels set" as "all on".
 */
export function logEnabled(level: LogLevel): boolean {
  const levels = (Logger as unknown as { logLevels?: LogLevel[] }).logLevels;
  return !levels || Logger.isLevelEnabled(level);
}
