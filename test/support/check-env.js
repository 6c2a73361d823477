// Runs before `npm test`: says clearly what a suite needs when it is missing, instead of letting
// twenty tests fail with ECONNREFUSED. It never skips anything; CI (.ci/run) installs and starts it all.
const { execFileSync } = require('node:child_process');
const net = require('node:net');

const problems = [];

function canConnect(port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
    s.setTimeout(2000, () => {
      s.destroy();
      resolve(false);
    });
  });
}

(async () => {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import celery, redis'], { stdio: 'ignore' });
  } catch {
    problems.push('Python Celery is missing: apt-get update && apt-get install -y python3-celery python3-redis');
  }
  if (!require('node:fs').existsSync('/usr/bin/chromium')) {
    problems.push(
      'Chromium is missing (the dashboard suites drive /usr/bin/chromium): apt-get update && apt-get install -y chromium',
    );
  }
  const redisPort = Number(process.env.TASKQUEUE_TEST_REDIS_PORT ?? 6379);
  if (!(await canConnect(redisPort)))
    problems.push(`Redis is not listening on 127.0.0.1:${redisPort}: start it (see .ci/run)`);
  if (!(await canConnect(5672)))
    problems.push('RabbitMQ is not listening on 127.0.0.1:5672: rabbitmq-server -detached');
  if (problems.length) {
    console.error(
      `\nThe test suites need real servers, Python Celery and Chromium:\n  - ${problems.join('\n  - ')}\n\n\`bash .ci/run\` installs and starts all of it, then runs the tests.\n`,
    );
    process.exit(1);
  }
})();
