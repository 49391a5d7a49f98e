// Entry of the schema registry's thread: the sources are TypeScript, so register tsx's loader in this thread first
// (a worker does not inherit the hooks of the thread that started it), then run the thread's body.
import { register } from 'tsx/esm/api';

register();
await import('./registry-thread-main.ts');
