// Entry of croupier's worker threads: the sources are TypeScript, so register tsx's loader in this thread
// first (a worker does not inherit the hooks registered in the main thread), then run the worker body.
import { register } from 'tsx/esm/api';

register();
await import('./worker-main.ts');
