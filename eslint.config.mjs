// @ts-check
// Lint: correctness rules plus the library's layering (docs/architecture.md "Rules the linter enforces").
// Formatting is Prettier's job (`npm run format`), so no stylistic rules here.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { importX, createNodeResolver } from 'eslint-plugin-import-x';

const LIB = 'libs/task-queue/src';

/**
 * The one-way arrows between the library's top-level folders: a folder may import only the folders
 * listed for it (and root files). Anything else is reported by `no-restricted-imports`.
 */
export const LAYERS = {
  errors: [],
  states: [],
  protocol: ['errors', 'states'],
  context: ['errors', 'states'],
  peers: ['errors'],
  options: ['errors', 'context', 'protocol'],
  interfaces: ['errors', 'states', 'protocol', 'context', 'options'],
  registry: ['errors', 'options'],
  transports: ['errors', 'protocol', 'peers'],
  brokers: ['errors', 'protocol', 'options', 'peers', 'transports'],
  backends: ['errors', 'states', 'protocol', 'options', 'peers', 'transports'],
  events: ['errors', 'states', 'protocol', 'context', 'brokers'],
  beat: [
    'errors',
    'states',
    'protocol',
    'options',
    'registry',
    'peers',
    'transports',
    'brokers',
    'backends',
    'publish',
  ],
  decorators: ['options', 'events', 'beat'],
  discovery: ['errors', 'options', 'registry', 'context', 'events'],
  control: ['errors', 'states', 'protocol', 'interfaces', 'options', 'registry', 'transports', 'brokers', 'events'],
  publish: ['errors', 'protocol', 'options', 'registry', 'brokers'],
  result: ['errors', 'states', 'protocol', 'backends', 'control'],
  canvas: ['errors', 'states', 'protocol', 'options', 'discovery', 'backends', 'control', 'publish', 'result'],
  client: ['errors', 'states', 'protocol', 'discovery', 'backends', 'control', 'publish', 'result', 'canvas'],
  reliability: ['errors', 'options', 'transports', 'brokers', 'backends'],
  worker: [
    'errors',
    'states',
    'protocol',
    'context',
    'interfaces',
    'options',
    'registry',
    'decorators',
    'discovery',
    'transports',
    'brokers',
    'backends',
    'events',
    'control',
    'publish',
    'result',
    'canvas',
    'reliability',
  ],
  pool: ['errors', 'protocol', 'context', 'options', 'registry', 'worker'],
  monitor: [
    'errors',
    'states',
    'protocol',
    'options',
    'peers',
    'transports',
    'brokers',
    'backends',
    'events',
    'control',
    'decorators',
  ],
  // Health checks; only health/ may load @nestjs/terminus (an optional peer: the `nestjs-celery/health` entry point).
  health: ['errors', 'options', 'transports', 'brokers', 'backends', 'control'],
  dashboard: [
    'errors',
    'states',
    'protocol',
    'options',
    'transports',
    'brokers',
    'backends',
    'control',
    'client',
    'beat',
    'monitor',
    'health',
  ],
  cli: [
    'errors',
    'states',
    'protocol',
    'options',
    'registry',
    'peers',
    'transports',
    'brokers',
    'backends',
    'control',
    'publish',
    'result',
    'canvas',
    'client',
    'beat',
    'monitor',
    'dashboard',
  ],
};
const FOLDERS = Object.keys(LAYERS);
/** Only adapter folders may load a driver (the drivers are optional peers, loaded lazily). */
// peers/ loads them lazily; beat/, monitor/ and cli/ (queue lengths) use Redis through type imports only.
const DRIVER_FOLDERS = ['peers', 'transports', 'brokers', 'backends', 'beat', 'monitor', 'cli'];

/**
 * Known exceptions, each with its reason. rpc:// reads replies with the AMQP broker's consumer (acks,
 * prefetch, redelivery): moving that consumer into transports/amqp is the next step (docs/architecture.md).
 */
const EXCEPTIONS = [{ files: [`${LIB}/backends/rpc/rpc.backend.ts`], folder: 'backends', alsoAllowed: ['brokers'] }];

function layerRules(folder, alsoAllowed = []) {
  const allowed = [...LAYERS[folder], ...alsoAllowed];
  const forbidden = FOLDERS.filter((f) => f !== folder && !allowed.includes(f));
  const patterns = forbidden.length
    ? [
        {
          group: forbidden.map((f) => `**/${f}/**`).concat(forbidden.map((f) => `../${f}`)),
          message: `${folder}/ may import only: ${allowed.join(', ') || '(nothing)'} (docs/architecture.md).`,
        },
      ]
    : [];
  const paths = (
    DRIVER_FOLDERS.includes(folder)
      ? []
      : ['ioredis', 'amqplib'].map((name) => ({
          name,
          message: `Only peers/, transports/, brokers/, backends/, beat/, monitor/ and cli/ may import ${name}.`,
        }))
  ).concat(
    folder === 'health'
      ? []
      : [{ name: '@nestjs/terminus', message: 'Only health/ may import @nestjs/terminus (an optional peer).' }],
  );
  return {
    files: [`${LIB}/${folder}/**/*.ts`],
    ignores: [`${LIB}/**/*.spec.ts`],
    rules: { 'no-restricted-imports': ['error', { paths, patterns }] },
  };
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '**/*.js', '**/*.d.ts', 'test/python/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js', '.json'] })],
    },
    rules: {
      // Noisy on a codebase that talks to untyped wire data and Nest's DI; not worth the churn.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
      ],
      '@typescript-eslint/no-empty-function': 'off',
      '@typescript-eslint/no-require-imports': 'off',
      '@typescript-eslint/no-namespace': 'off',
      'no-empty': ['error', { allowEmptyCatch: true }],
      'no-control-regex': 'off',
      // Nest's Type<T> and reflection hand us plain Function values.
      '@typescript-eslint/no-unsafe-function-type': 'off',
      'import-x/no-duplicates': 'error',
      'import-x/first': 'error',
    },
  },
  {
    // Cycles between library files, value and type imports alike.
    files: [`${LIB}/**/*.ts`],
    ignores: [`${LIB}/**/*.spec.ts`],
    rules: { 'import-x/no-cycle': ['error', { ignoreExternal: true }] },
  },
  {
    files: ['scripts/**/*.mjs', 'eslint.config.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
  ...FOLDERS.map((f) => layerRules(f)),
  ...EXCEPTIONS.map(({ files, folder, alsoAllowed }) => ({ ...layerRules(folder, alsoAllowed), files })),
  {
    // Outside the library: the package by its name, never a relative path into libs/.
    files: ['apps/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/libs/**', '@app/task-queue', '@app/task-queue/**'],
              message: "Import the library as 'nestjs-celery' (or 'nestjs-celery/internal/<path>' for internals).",
            },
          ],
        },
      ],
    },
  },
);
