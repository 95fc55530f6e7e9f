import js from '@eslint/js'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      '.services/**',
      'web/vendor/**',
      'artifacts/**',
      'benchmarks/results/**',
      'benchmarks/scratch/**'
    ]
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        console: 'readonly',
        process: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        setImmediate: 'readonly',
        URL: 'readonly',
        AbortController: 'readonly',
        AbortSignal: 'readonly',
        TextEncoder: 'readonly',
        TextDecoder: 'readonly',
        performance: 'readonly',
        fetch: 'readonly',
        structuredClone: 'readonly',
        queueMicrotask: 'readonly'
      }
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off'
    }
  },
  {
    files: ['src/domain/**', 'src/stream/**', 'src/ports/**', 'src/apps/**', 'src/adapters/**'],
    rules: {
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'env',
          message: 'Configuration is parsed at the edge (src/cli, src/config) and passed down.'
        }
      ]
    }
  },
  {
    files: ['src/domain/**', 'src/stream/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/adapters/**', '**/apps/**', '**/cli/**'],
              message: 'domain and stream are pure: they never import adapters, apps or the CLI.'
            }
          ]
        }
      ]
    }
  },
  {
    // Later blocks override the rule above for these files: each repeats its patterns.
    files: ['src/domain/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/adapters/**', '**/apps/**', '**/cli/**'],
              message: 'domain and stream are pure: they never import adapters, apps or the CLI.'
            },
            {
              group: ['**/stream/**'],
              message: 'domain does not depend on the runtime: shared helpers live in src/bytes.'
            }
          ]
        }
      ]
    }
  },
  {
    files: ['src/bytes/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [{ group: ['../**'], message: 'src/bytes is a leaf: domain and stream both import it.' }]
        }
      ]
    }
  },
  {
    files: ['web/**/*.js'],
    languageOptions: {
      globals: {
        window: 'readonly',
        document: 'readonly',
        EventSource: 'readonly',
        fetch: 'readonly',
        location: 'readonly',
        history: 'readonly',
        localStorage: 'readonly',
        requestAnimationFrame: 'readonly',
        navigator: 'readonly'
      }
    }
  }
)
