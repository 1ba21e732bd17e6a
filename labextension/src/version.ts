/**
 * The frontend's own version, for the handshake with the server extension.
 *
 * Read from the root package.json at bundle time (the builder inlines it), so
 * it cannot drift from the version that pyproject.toml takes from there too.
 */

// Module-scoped: does not clash with @types/node's global `require` if present.
declare const require: (id: string) => { version: string };

/** The npm package version of this frontend (e.g. "0.1.0"). */
export const FRONTEND_VERSION: string = require('../package.json').version;
