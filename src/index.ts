// Node entry point: the whole API plus the native backends.
export * from './core.js';
