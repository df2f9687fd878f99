// What the rest of the broker imports from storage: the seam's types, openStorage, and the default filesystem
// (tests wrap it to inject failures).
export type * from './types.js';
export { openStorage, partitionDirName, DEFAULT_TAIL_CACHE_BYTES } from './storage.js';
export { defaultStorageFs } from './fs.js';
