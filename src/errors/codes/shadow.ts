/** Error codes of shadow tests (`src/shadow`, `croupier shadow`). */
export const SHADOW_ERROR_CODES = [
  'CROUPIER_ERR_SHADOW_SPEC',
  'CROUPIER_ERR_SHADOW_INPUT',
  'CROUPIER_ERR_SHADOW_NO_DATA',
] as const;
