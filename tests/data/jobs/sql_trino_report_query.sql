-- Weekly report query (Athena); the result is downloaded, not stored.
WITH weekly AS (
    SELECT date_trunc('week', o.created_at) AS week,
           o.store_id,
           count(*) AS orders,
           sum(o.total) AS revenue
    FROM sales.orders o
    LEFT JOIN sales.returns r
           ON r.order_id = o.order_id
          AND r.created_at >= DATE '2024-01-01'
    WHERE r.order_id IS NULL
      AND o.created_at >= DATE '2024-01-01'
    GROUP BY 1, 2
)
SELECT w.week, s.store_name, w.orders, w.revenue
FROM weekly w
JOIN ref.stores s ON s.store_id = w.store_id
WHERE EXISTS (SELECT 1 FROM ref.open_stores os WHERE os.store_id = w.store_id)
ORDER BY w.week, s.store_name
