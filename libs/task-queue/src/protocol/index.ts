export * from './task-message';
export * from './result-meta';
export * from './json.codec';
export * from './iso-time';
export { argsRepr, kwargsRepr } from './py-repr';
export * from './control-message';
export * from './event-message';
