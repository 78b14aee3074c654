import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const typeAwareRules = {
  // A lost promise in a consumer is a lost job.
  '@typescript-eslint/no-floating-promises': 'error',
  '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
  '@typescript-eslint/switch-exhaustiveness-check': 'error',
  '@typescript-eslint/consistent-type-imports': 'error',
  '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
};

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      'coverage/**',
      'jest.config.cjs',
      'bench/**',
      'scripts/**',
      '.tools/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { project: ['./tsconfig.test.json'], tsconfigRootDir: import.meta.dirname },
    },
    rules: typeAwareRules,
  },
  {
    // The dashboard runs in the browser: its own tsconfig (DOM types, JSX for Preact).
    files: ['packages/dashboard/src/**/*.{ts,tsx}'],
    languageOptions: {
      parserOptions: {
        project: ['./packages/dashboard/tsconfig.json'],
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: typeAwareRules,
  },
  {
    // Job modules written as plain JavaScript, run by Node: its globals, nothing imported.
    files: ['**/*.mjs'],
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        Buffer: 'readonly',
        URL: 'readonly',
      },
    },
  },
  {
    // Migrations are frozen in time and typed Kysely<any>: they must not import today's schema.
    files: ['packages/database/src/migrations/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
