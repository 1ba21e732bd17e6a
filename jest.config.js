/**
 * Unit tests of the frontend's pure logic (labextension/src/__tests__/*.spec.ts),
 * as the JupyterLab extension template sets them up: JupyterLab's jest config
 * (ts-jest through tsconfig.test.json, jsdom). The UI itself is tested by the
 * Galata specs in ui-tests/, which this config leaves alone.
 */
const jestJupyterLab = require('@jupyterlab/testutils/lib/jest-config');

// The template's list, plus what @jupyterlab/notebook pulls in through the
// toolkit (@jupyter/web-components and friends ship ES modules only).
const esModules = [
  '@codemirror',
  '@jupyter/react-components',
  '@jupyter/web-components',
  '@jupyter/ydoc',
  '@jupyterlab/',
  '@marijn',
  '@microsoft',
  'color',
  'exenv-es6',
  'lib0',
  'marked',
  'nanoid',
  'vscode-ws-jsonrpc',
  'y-protocols',
  'y-websocket',
  'yjs'
].join('|');

const baseConfig = jestJupyterLab(__dirname);

module.exports = {
  ...baseConfig,
  automock: false,
  collectCoverageFrom: [
    'labextension/src/**/*.{ts,tsx}',
    '!labextension/src/**/*.d.ts',
    '!labextension/src/**/.ipynb_checkpoints/*'
  ],
  // build/ is ignored by git: no coverage/ or junit.xml at the top of the tree
  coverageDirectory: '<rootDir>/build/coverage',
  coverageReporters: ['lcov', 'text'],
  // only our sources: not .venv (a second JupyterLab's package.json) nor ui-tests/
  roots: ['<rootDir>/labextension/src'],
  reporters: ['default', ['jest-junit', { outputDirectory: 'build' }], 'github-actions'],
  testRegex: 'labextension/src/.*/.*.spec.ts[x]?$',
  transformIgnorePatterns: [`/node_modules/(?!${esModules}).+`]
};
