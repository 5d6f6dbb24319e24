/** Built-in plugins. Each uses exactly the public SDK (core/index.ts), like a third-party plugin. */
export { default as dummy } from './dummy/index.js';
export { default as stdout } from './stdout/index.js';
