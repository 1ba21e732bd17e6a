// ESLint as in the JupyterLab extension template (eslint.config.mjs of
// jupyterlab/extension-template), with our paths: the sources are
// labextension/src/*.ts (tsconfig.json), the jest specs in
// labextension/src/__tests__ and the Galata specs in ui-tests are left out as
// the template leaves its tests out, and labextension/src/schema.ts is
// generated (`jlpm build:schema`; `jlpm check:schema` keeps it current).
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';
import prettierRecommended from 'eslint-plugin-prettier/recommended';
import globals from 'globals';
import jupyterPlugin from '@jupyter/eslint-plugin';

export default defineConfig([
  {
    ignores: [
      'node_modules',
      'dist',
      'coverage',
      '**/*.js',
      '**/*.d.ts',
      '.venv',
      'build',
      // the Python package: its schema/ is the data model, not a settings schema
      'repro_jupyter',
      'labextension/src/schema.ts',
      'tests',
      '**/__tests__',
      'ui-tests'
    ]
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    plugins: {
      jupyter: jupyterPlugin
    }
  },
  jupyterPlugin.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx'],
    languageOptions: {
      globals: {
        ...globals.browser,
        ...globals.es2015,
        ...globals.node
      },
      parserOptions: {
        project: 'tsconfig.json',
        sourceType: 'module'
      }
    },
    rules: {
      '@typescript-eslint/naming-convention': [
        'error',
        {
          selector: 'interface',
          format: ['PascalCase'],
          custom: {
            regex: '^I[A-Z]',
            match: true
          }
        }
      ],
      '@typescript-eslint/no-unused-vars': ['warn', { args: 'none' }],
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-namespace': 'off',
      '@typescript-eslint/no-use-before-define': 'off',
      // kept as in the template; eslint-config-prettier turns it off (prettier's singleQuote decides)
      '@typescript-eslint/quotes': [
        'error',
        'single',
        { avoidEscape: true, allowTemplateLiterals: false }
      ],
      curly: ['error', 'all'],
      eqeqeq: 'error',
      'prefer-arrow-callback': 'error',
      // the extension has no ITranslator yet: translating the UI is a feature of its own
      'jupyter/no-untranslated-string': 'off',
      // the plugin needs these modules at activation; import() would change load order
      'jupyter/prefer-lazy-imports': 'off',
      // describedBy adds argument schemas to our commands: an API change, not a lint fix
      'jupyter/command-described-by': 'off'
    }
  },
  {
    // build scripts run by node (labextension/scripts/schema.mjs)
    files: ['**/*.mjs'],
    languageOptions: {
      globals: globals.node
    }
  },
  prettierRecommended
]);
