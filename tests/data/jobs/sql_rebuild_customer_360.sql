/* Nightly rebuild of the customer 360 table (Athena). */
DROP TABLE IF EXISTS mart.customer_360;

CREATE TABLE mart.customer_360 AS
SELECT u.customer_id,
       u.channel,
       u.first_seen,
       ranked.last_order_id
FROM (
    SELECT w.customer_id, 'web' AS channel, min(w.event_ts) AS first_seen
    FROM web.events w
    GROUP BY w.customer_id
    UNION ALL
    SELECT s.customer_id, 'store' AS channel, min(s.sold_at) AS first_seen
    FROM retail.pos_sales s
    WHERE s.customer_id IS NOT NULL
    GROUP BY s.customer_id
) u
LEFT JOIN (
    SELECT o.customer_id, o.order_id AS last_order_id,
           row_number() OVER (PARTITION BY o.customer_id ORDER BY o.ordered_at DESC) AS rn
    FROM sales.orders o
) ranked
  ON ranked.customer_id = u.customer_id
 AND ranked.rn = 1;
