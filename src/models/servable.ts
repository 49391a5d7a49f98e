/**
 * Whether a model version can serve, checked before a flip makes it active: a promotion or rollback that named a
 * file ONNX Runtime cannot load, or a model whose scores are NaN or outside [0, 1], left a registry whose active
 * model every gateway refuses on reload and whose next `croupier start` fails. The same checks as the gateway's
 * (its input, outputs and width against the feature spec, and a probe batch in [0, 1]), on the CPU.
 */
import { CroupierError } from '../errors/index.ts';
import { loadFeatureSpec } from '../scoring/feature-spec.ts';
import { loadModelSession } from '../scoring/model-loader.ts';
import { activeModel, type Manifest } from '../scoring/model-registry.ts';

/** Throws CROUPIER_ERR_MODEL_PROMOTION, saying why, unless `version` of `manifest` loads and scores in [0, 1]. */
export async function checkServable(dir: string, manifest: Manifest, version: string): Promise<void> {
  const model = activeModel(dir, { ...manifest, active: version });
  try {
    const spec = await loadFeatureSpec(model.featureSpecPath);
    const session = await loadModelSession(model, spec, { executionProviders: ['cpu'], intraOpThreads: 1 });
    await session.release();
  } catch (error) {
    throw new CroupierError(
      'CROUPIER_ERR_MODEL_PROMOTION',
      `${version} cannot serve, so ${manifest.active} stays active: ${(error as Error).message}`,
      { version, active: manifest.active },
      { cause: error },
    );
  }
}
