// The shadow link configuration module: the link model (types.ts), parsing, validation, rendering and the template
// (config.ts), and topic / group / property / overlap rules (filters.ts). The link manager, tasks and replication
// build on these.
export * from './types.js';
export * from './config.js';
export * from './filters.js';
