-- The training set: every item a logged carousel showed, with the click, conversions and watch time that
-- followed it within the attribution window, and whether it falls in the holdout (the last part of the window).
--
-- One query, no engine-specific syntax, so DuckDB (croupier train) and Spark SQL (the archive on HDFS) run it
-- unchanged. It reads two relations the caller defines:
--
--   clickstream   the clickstream topic's archive: one table for all its record types (`_schema` tells which)
--   train_params  one row: window_start, window_end, holdout_start (timestamps), attribution_window_seconds,
--                 feature_spec_hash (the spec the model being trained follows)
--
-- and two functions: explode(list) (Spark's; croupier defines it on DuckDB over unnest) and unix_millis(ts).
--
-- A carousel is the `Carousel` record the gateway logs once per dealt carousel; its `items` hold, per shown
-- item, the slot, score, propensity and the exact feature row the model scored. A duplicate delivery of a
-- carousel or of an outcome (same requestId and itemId, same eventId) counts once.

WITH params AS (
  SELECT * FROM train_params
),

carousels AS (
  SELECT c.eventId, c.requestId, c.userId, c.modelVersion, c.policy, c.featureSpecHash,
         c.timestamp AS shown_at, c._partition, c._offset, explode(c.items) AS item
  FROM clickstream c CROSS JOIN params p
  WHERE c._schema = 'croupier.events.Carousel'
    AND c.timestamp >= p.window_start AND c.timestamp < p.window_end
),

shown AS (
  SELECT * FROM (
    SELECT requestId, userId, modelVersion, policy, featureSpecHash, shown_at, _partition, _offset,
           item.itemId AS itemId, item.slot AS slot, item.score AS score, item.propensity AS propensity,
           item.features AS features,
           row_number() OVER (PARTITION BY requestId, item.itemId ORDER BY shown_at, _partition, _offset) AS copy
    FROM carousels
  ) s
  WHERE s.copy = 1
),

outcomes AS (
  SELECT * FROM (
    SELECT e.requestId, e.itemId, e._schema AS kind, e.timestamp AS happened_at,
           CASE WHEN e._schema = 'croupier.events.Conversion' THEN e.value ELSE 0 END AS conversion_value,
           CASE WHEN e._schema = 'croupier.events.Watch' THEN e.watchTimeMs ELSE 0 END AS watch_ms,
           row_number() OVER (PARTITION BY e.eventId ORDER BY e._partition, e._offset) AS copy
    FROM clickstream e CROSS JOIN params p
    WHERE e._schema IN ('croupier.events.Click', 'croupier.events.Conversion', 'croupier.events.Watch')
      AND e.timestamp >= p.window_start
      AND unix_millis(e.timestamp) <= unix_millis(p.window_end) + 1000 * p.attribution_window_seconds
  ) o
  WHERE o.copy = 1
),

labels AS (
  SELECT s.requestId, s.itemId,
         max(CASE WHEN o.kind = 'croupier.events.Click' THEN 1 ELSE 0 END) AS clicked,
         sum(CASE WHEN o.kind = 'croupier.events.Conversion' THEN 1 ELSE 0 END) AS conversions,
         sum(o.conversion_value) AS conversion_value,
         sum(o.watch_ms) AS watch_ms
  FROM shown s
  JOIN outcomes o ON o.requestId = s.requestId AND o.itemId = s.itemId
  CROSS JOIN params p
  WHERE unix_millis(o.happened_at) >= unix_millis(s.shown_at)
    AND unix_millis(o.happened_at) <= unix_millis(s.shown_at) + 1000 * p.attribution_window_seconds
  GROUP BY s.requestId, s.itemId
)

SELECT s.requestId AS request_id,
       s.userId AS user_id,
       s.itemId AS item_id,
       unix_millis(s.shown_at) AS shown_at_ms,
       s.slot,
       s.score AS logged_score,
       s.propensity,
       s.modelVersion AS model_version,
       s.policy,
       s._partition AS kafka_partition,
       s._offset AS kafka_offset,
       s.features,
       CASE WHEN s.featureSpecHash = p.feature_spec_hash THEN 1 ELSE 0 END AS spec_matches,
       coalesce(l.clicked, 0) AS clicked,
       coalesce(l.conversions, 0) AS conversions,
       coalesce(l.conversion_value, 0) AS conversion_value,
       coalesce(l.watch_ms, 0) AS watch_ms,
       CASE WHEN s.shown_at >= p.holdout_start THEN 1 ELSE 0 END AS holdout
FROM shown s
CROSS JOIN params p
LEFT JOIN labels l ON l.requestId = s.requestId AND l.itemId = s.itemId
ORDER BY shown_at_ms, kafka_partition, kafka_offset, s.slot
