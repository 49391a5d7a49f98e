-- Shown items of the carousels a model dealt with a candidate model as the shadow (`shadowPolicy` is the
-- candidate's version, bare or as `<policy>@<version>`), each with its logged
-- propensity (the serving policy's probability of the item in its slot), the shadow's probability of the same
-- item in the same slot, and whether it was clicked within attribution_seconds. Reads `clickstream` and one row
-- of `shadow_params` (active_version, shadow_label, window_start, attribution_seconds); a carousel counts once
-- the archive of its partition reaches attribution_seconds past it. Spark SQL runs it unchanged.

WITH params AS (
  SELECT * FROM shadow_params
),

archived_to AS (
  SELECT _partition, max(unix_millis(timestamp)) AS last_ms
  FROM clickstream
  GROUP BY _partition
),

carousels AS (
  SELECT c.requestId, c.timestamp AS shown_at, explode(c.items) AS item
  FROM clickstream c
  CROSS JOIN params p
  JOIN archived_to a ON a._partition = c._partition
  WHERE c._schema = 'croupier.events.Carousel'
    AND c.modelVersion = p.active_version
    AND (c.shadowPolicy = p.shadow_label
         OR right(c.shadowPolicy, length(p.shadow_label) + 1) = concat('@', p.shadow_label))
    AND c.timestamp >= p.window_start
    AND unix_millis(c.timestamp) + 1000 * p.attribution_seconds <= a.last_ms
),

shown AS (
  SELECT * FROM (
    SELECT requestId, item.itemId AS itemId, shown_at, item.propensity AS propensity,
           item.shadowPropensity AS shadow_propensity,
           row_number() OVER (PARTITION BY requestId, item.itemId ORDER BY shown_at) AS copy
    FROM carousels
  ) s
  WHERE s.copy = 1 AND s.propensity > 0 AND s.shadow_propensity IS NOT NULL
),

clicks AS (
  SELECT DISTINCT requestId, itemId, unix_millis(timestamp) AS clicked_ms
  FROM clickstream
  WHERE _schema = 'croupier.events.Click'
)

SELECT s.requestId AS request_id, s.propensity, s.shadow_propensity,
       max(CASE WHEN k.requestId IS NULL THEN 0 ELSE 1 END) AS clicked
FROM shown s
CROSS JOIN params p
LEFT JOIN clicks k ON k.requestId = s.requestId AND k.itemId = s.itemId
  AND k.clicked_ms >= unix_millis(s.shown_at)
  AND k.clicked_ms <= unix_millis(s.shown_at) + 1000 * p.attribution_seconds
GROUP BY s.requestId, s.itemId, s.propensity, s.shadow_propensity
ORDER BY s.requestId
