/** One jest run for the whole workspace: unit tests (x.test.ts) and integration tests
 * (x.int.test.ts) against the real PostgreSQL and RabbitMQ. Sources are TypeScript compiled
 * on the fly by swc; workspace packages resolve to their sources, so `pnpm build` is only
 * needed for tests that spawn a service as a child process (they run `dist/main.js`). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/packages', '<rootDir>/services', '<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } },
    ],
  },
  moduleNameMapper: {
    '^@conveyor/([a-z-]+)/contract$': '<rootDir>/packages/$1/src/contract.ts',
    '^@conveyor/([a-z-]+)$': '<rootDir>/packages/$1/src/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testTimeout: 60_000,
  maxWorkers: 3,
  reporters: ['default', '<rootDir>/scripts/jest-summary-reporter.cjs'],
};
