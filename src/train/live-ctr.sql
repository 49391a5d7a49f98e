-- Live click-through per side of a comparison: for each row of `watch_params` (side, model_version,
-- window_start, window_end, attribution_seconds), the carousels that model version dealt in the window, those
-- with a click within attribution_seconds, their shown items and the clicked ones.
--
-- A carousel counts only once the archive of its Kafka partition holds records at least attribution_seconds
-- past it (clicks follow their carousel in the same partition, the user's), so a carousel whose clicks are
-- not archived yet is not counted as unclicked: both sides are measured alike whatever the archive's lag.
-- A duplicate delivery (same requestId and itemId) counts once. Spark SQL runs it unchanged (README).

WITH params AS (
  SELECT * FROM watch_params
),

archived_to AS (
  SELECT _partition, max(unix_millis(timestamp)) AS last_ms
  FROM clickstream
  GROUP BY _partition
),

carousels AS (
  SELECT p.side, c.requestId, c.timestamp AS shown_at, c._partition, explode(c.items) AS item
  FROM clickstream c
  JOIN params p ON c.modelVersion = p.model_version
    AND c.timestamp >= p.window_start AND c.timestamp < p.window_end
  JOIN archived_to a ON a._partition = c._partition
  WHERE c._schema = 'croupier.events.Carousel'
    AND unix_millis(c.timestamp) + 1000 * p.attribution_seconds <= a.last_ms
),

shown AS (
  SELECT * FROM (
    SELECT side, requestId, item.itemId AS itemId, shown_at,
           row_number() OVER (PARTITION BY side, requestId, item.itemId ORDER BY shown_at) AS copy
    FROM carousels
  ) s
  WHERE s.copy = 1
),

clicks AS (
  SELECT DISTINCT requestId, itemId, unix_millis(timestamp) AS clicked_ms
  FROM clickstream
  WHERE _schema = 'croupier.events.Click'
),

labelled AS (
  SELECT s.side, s.requestId, s.itemId,
         max(CASE WHEN k.requestId IS NULL THEN 0 ELSE 1 END) AS clicked
  FROM shown s
  JOIN params p ON p.side = s.side
  LEFT JOIN clicks k ON k.requestId = s.requestId AND k.itemId = s.itemId
    AND k.clicked_ms >= unix_millis(s.shown_at)
    AND k.clicked_ms <= unix_millis(s.shown_at) + 1000 * p.attribution_seconds
  GROUP BY s.side, s.requestId, s.itemId
)

SELECT side,
       count(DISTINCT requestId) AS carousels,
       count(DISTINCT CASE WHEN clicked = 1 THEN requestId END) AS clicked_carousels,
       count(*) AS items,
       sum(clicked) AS clicks
FROM labelled
GROUP BY side
