/** Writer schemas by registry id, as the schema registry holds them (fetched once per id), for file metadata. */
import { CroupierError } from '../errors/index.ts';

export function createSchemaTexts(
  registryUrl: string,
  auth?: { username: string; password: string },
): (id: number) => Promise<string> {
  const cache = new Map<number, Promise<string>>();
  const headers: Record<string, string> = auth
    ? { authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}` }
    : {};
  return (id) => {
    let text = cache.get(id);
    if (!text) {
      text = fetch(`${registryUrl.replace(/\/$/, '')}/schemas/ids/${id}`, {
        headers,
        signal: AbortSignal.timeout(10_000),
      })
        .then(async (response) => {
          if (!response.ok) throw new Error(`HTTP ${response.status}`);
          return ((await response.json()) as { schema: string }).schema;
        })
        .catch((error: unknown) => {
          cache.delete(id);
          throw new CroupierError(
            'CROUPIER_ERR_REGISTRY_UNAVAILABLE',
            `cannot fetch schema id ${id} from ${registryUrl}: ${(error as Error).message}`,
            { schemaId: id },
            { cause: error },
          );
        });
      cache.set(id, text);
    }
    return text;
  };
}
