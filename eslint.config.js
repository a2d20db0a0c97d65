import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The pure core must stay free of I/O, the Kubernetes client, the clock and the
// environment: that is what lets the evaluator prove the translations.
const impure = [
  { name: '@kubernetes/client-node', message: 'The pure core must not use the Kubernetes client (use src/kube).' },
  { name: 'node:fs', message: 'The pure core does no I/O.' },
  { name: 'fs', message: 'The pure core does no I/O.' },
  { name: 'node:fs/promises', message: 'The pure core does no I/O.' },
  { name: 'node:net', message: 'The pure core does no I/O.' },
  { name: 'net', message: 'The pure core does no I/O.' },
  { name: 'node:process', message: 'The pure core reads no environment.' },
  { name: 'process', message: 'The pure core reads no environment.' },
  { name: 'node:child_process', message: 'The pure core does no I/O.' },
  { name: 'node:http', message: 'The pure core does no I/O.' },
  { name: 'node:https', message: 'The pure core does no I/O.' },
  { name: 'prom-client', message: 'The pure core does not log or measure.' },
];

export default tseslint.config(
  { ignores: ['dist/**', 'dist-check/**', 'node_modules/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', URL: 'readonly', Buffer: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': ['error', { selector: 'ExportDefaultDeclaration', message: 'Use named exports.' }],
    },
  },
  {
    // Tool configuration files must default-export by convention.
    files: ['eslint.config.js', 'vitest.config.ts', '**/vitest.config.ts'],
    rules: { 'no-restricted-syntax': 'off' },
  },
  {
    files: ['src/api/**', 'src/semantics/**', 'src/translate/**'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: impure,
        patterns: [
          { group: ['**/kube/**', '**/controller/**', '**/cli/**'], message: 'The pure core may not depend on the impure layers.' },
        ],
      }],
      'no-restricted-globals': ['error',
        { name: 'process', message: 'The pure core reads no environment.' },
        { name: 'console', message: 'The pure core does not log; return findings instead.' },
        { name: 'setTimeout', message: 'The pure core has no clock.' },
        { name: 'setInterval', message: 'The pure core has no clock.' },
      ],
      'no-restricted-properties': ['error', { object: 'Date', property: 'now', message: 'The pure core has no clock.' }],
    },
  },
);
