// Two projects: unit specs beside the code (no server needed), and the suites in test/
// that run against the real Redis, RabbitMQ and Python Celery of the machine.
const shared = {
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  testEnvironment: 'node',
  moduleFileExtensions: ['ts', 'js', 'json'],
  // The package by its name, as an app imports it; `nestjs-celery/internal/…` lets tests reach
  // internals (never part of the published exports map).
  moduleNameMapper: {
    '^nestjs-celery$': '<rootDir>/libs/task-queue/src',
    '^nestjs-celery/health$': '<rootDir>/libs/task-queue/src/health',
    '^nestjs-celery/internal/(.*)$': '<rootDir>/libs/task-queue/src/$1',
  },
};

module.exports = {
  projects: [
    {
      ...shared,
      displayName: 'unit',
      rootDir: __dirname,
      roots: ['<rootDir>/libs', '<rootDir>/apps'],
      testRegex: '.*\\.spec\\.ts$',
    },
    {
      ...shared,
      displayName: 'e2e',
      rootDir: __dirname,
      roots: ['<rootDir>/test'],
      testRegex: '.*\\.e2e-spec\\.ts$',
      testPathIgnorePatterns: ['/node_modules/'],
      slowTestThreshold: 30,
    },
  ],
  testTimeout: 60000,
  // Safety net only: a Jest that never exits would hang CI. The one leak seen (a worker that refused to
  // start kept its connections open) is fixed in test/support/nest-apps.ts, and the suites exit on
  // their own (`npx jest --forceExit=false`); keep this so that a future leak fails loudly in a test
  // rather than silently hanging the pipeline.
  forceExit: true,
};
