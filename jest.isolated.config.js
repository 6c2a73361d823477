// Suites that must not share a Jest process with the others: `npm run test:cluster`. NOT part of
// `npm test` (so not of CI) while it fails; see issue #15's note. Today: the RabbitMQ cluster failover suite —
// after other suites in the same process, its client's publishes stalled once it had moved to node 2.
// KNOWN FAILING since the port onto the restructured transports/amqp: even alone, the client's publishes
// stall after the kill (both connections are back on node 2, nothing unconfirmed); bounded by the
// suite's timeouts, so it fails rather than hangs. Everything else comes from jest.config.js.
const main = require('./jest.config');

const e2e = main.projects.find((p) => p.displayName === 'e2e');

module.exports = {
  ...main,
  projects: [
    {
      ...e2e,
      displayName: 'isolated',
      testRegex: undefined,
      testPathIgnorePatterns: ['/node_modules/'],
      testMatch: ['<rootDir>/test/reliability/rabbitmq-cluster.e2e-spec.ts'],
    },
  ],
};
