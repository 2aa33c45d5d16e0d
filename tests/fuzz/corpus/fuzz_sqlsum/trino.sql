-- Athena (Trino): daily app KPIs, appended once a day.
INSERT INTO kpi.daily_app_metrics
WITH sessions AS (
    SELECT s.user_id,
           date_trunc('day', s.started_at) AS day,
           s.duration_seconds,
           s.platform
    FROM app_raw.sessions s
    WHERE s.started_at >= current_date - INTERVAL '1' DAY
      AND s.started_at < current_date
),
purchases AS (
    SELECT p.user_id, date_trunc('day', p.purchased_at) AS day, p.amount_usd
    FROM app_raw.purchases p
    WHERE p.is_refunded = false
)
SELECT se.day,
       se.platform,
       approx_distinct(se.user_id) AS dau,
       avg(se.duration_seconds) AS avg_session_seconds,
       coalesce(sum(pu.amount_usd), 0) AS revenue_usd
FROM sessions se
LEFT JOIN purchases pu
  ON se.user_id = pu.user_id
 AND se.day = pu.day
GROUP BY 1, 2
