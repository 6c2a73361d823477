// The dashboard's page files are not TypeScript, so tsc does not emit them: copy them beside the
// compiled dashboard (dist/dashboard/public), which the package ships.
const { cpSync } = require('node:fs');
const { join } = require('node:path');

cpSync(join(__dirname, 'src', 'dashboard', 'public'), join(__dirname, 'dist', 'dashboard', 'public'), {
  recursive: true,
});
