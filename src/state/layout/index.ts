/** The Redis state layout of docs/state-layout.md: the key table and the change-feed entry, shared by writer and reader. */
export * from './feed-entry.ts';
export * from './keys.ts';
