#!/usr/bin/env node
// The `taskq` command: runs the compiled CLI shipped in dist/ (in a clone of the repository, build it
// first with `npm run build`).
const { join } = require('node:path');
const entry = join(__dirname, '..', 'dist', 'cli', 'main.js');
try {
  require.resolve(entry);
} catch {
  process.stderr.write('taskq: the CLI is not built. In a clone of the repository, run `npm run build` first.\n');
  process.exit(1);
}
require(entry);
