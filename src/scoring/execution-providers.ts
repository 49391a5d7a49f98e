/**
 * Which ONNX Runtime execution provider scores, and why. CUDA needs its provider libraries next to the
 * onnxruntime-node binding (installed with `ONNXRUNTIME_NODE_INSTALL=cuda12 npm install`); WebGPU is bundled
 * but needs an adapter (Dawn over Vulkan); CPU always works and is the last resort.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import ort from 'onnxruntime-node';

export type ProviderName = 'cuda' | 'webgpu' | 'cpu';

/** One attempt to try, in order of preference. */
export interface ProviderCandidate {
  readonly name: ProviderName;
  /** Why this candidate is tried, or why a requested provider was skipped (`skip` set). */
  readonly reason: string;
  readonly skip: boolean;
}

/** Directory of the onnxruntime-node native binding, where provider libraries are installed. */
function bindingDir(): string | null {
  try {
    const require = createRequire(import.meta.url);
    const main = require.resolve('onnxruntime-node');
    return join(dirname(main), '..', 'bin', 'napi-v6', process.platform, process.arch);
  } catch {
    return null;
  }
}

/** True when the CUDA provider library of onnxruntime-node is installed. */
export function cudaProviderInstalled(): boolean {
  const dir = bindingDir();
  return dir !== null && existsSync(join(dir, 'libonnxruntime_providers_cuda.so'));
}

function backendListed(name: string): boolean {
  try {
    return ort.listSupportedBackends().some((backend) => backend.name === name);
  } catch {
    return false;
  }
}

/**
 * The providers to try for `requested` (config order), each with its reason; CPU is appended when missing.
 * `probe` is injectable for tests.
 */
export function planExecutionProviders(
  requested: readonly ProviderName[],
  probe: { cudaInstalled: () => boolean; listed: (name: string) => boolean } = {
    cudaInstalled: cudaProviderInstalled,
    listed: backendListed,
  },
): ProviderCandidate[] {
  const plan: ProviderCandidate[] = [];
  for (const name of requested) {
    if (plan.some((candidate) => candidate.name === name)) continue;
    if (name === 'cuda') {
      if (!probe.listed('cuda')) {
        plan.push({
          name,
          skip: true,
          reason: 'cuda requested but this onnxruntime-node build has no CUDA backend',
        });
      } else if (!probe.cudaInstalled()) {
        plan.push({
          name,
          skip: true,
          reason:
            'cuda requested but its provider library is not installed (reinstall onnxruntime-node with ONNXRUNTIME_NODE_INSTALL=cuda12)',
        });
      } else {
        plan.push({ name, skip: false, reason: 'cuda requested and its provider library is installed' });
      }
    } else if (name === 'webgpu') {
      plan.push(
        probe.listed('webgpu')
          ? { name, skip: false, reason: 'webgpu requested and bundled with onnxruntime-node' }
          : {
              name,
              skip: true,
              reason: 'webgpu requested but this onnxruntime-node build has no WebGPU backend',
            },
      );
    } else {
      plan.push({ name, skip: false, reason: 'cpu requested' });
    }
  }
  if (!plan.some((candidate) => candidate.name === 'cpu')) {
    plan.push({ name: 'cpu', skip: false, reason: 'cpu is the last resort' });
  }
  return plan;
}
