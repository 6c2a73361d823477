#!/usr/bin/env node
// The `taskq` command. It runs the compiled CLI, so build first: `npm run build`.
const { join } = require('node:path');
const entry = join(__dirname, '..', '..', '..', 'dist', 'taskq', 'cli', 'main.js');
try {
  require.resolve(entry);
} catch {
  process.stderr.write('taskq: the CLI is not built yet. Run `npm run build` in the repository first.\n');
  process.exit(1);
}
require(entry);
