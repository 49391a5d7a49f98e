/** Messages between croupier's main thread and its worker threads (see worker-main.ts). */
export type WorkerRole = 'broker' | 'topology' | 'archive';

export type WorkerInbound = { type: 'close' };

export type WorkerOutbound =
  | { type: 'ready'; address?: string }
  | { type: 'error'; message: string; code?: string }
  | { type: 'closed' };
