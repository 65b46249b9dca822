/**
 * The wire contract of the gateway's public and admin API as JSON Schemas
 * (TypeBox): the SDK's types are derived from them, the gateway validates
 * its answers and writes its OpenAPI document from them, so the two cannot
 * drift apart.
 */
export * from './files.js';
export * from './cluster.js';
export * from './operations.js';
export * from './index-rebuild.js';
export * from './errors.js';
export * from './keys.js';
