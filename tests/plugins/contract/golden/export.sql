-- Violation queries for analytics_db.loan_repayment_fact (trino dialect), exported by weir from its contract.
-- Each returns one row, failures: the rule holds when it is 0.

-- loan_id.not_null (not_null, error)
SELECT COUNT(*) AS failures FROM "analytics_db"."loan_repayment_fact" AS t WHERE "loan_id" IS NULL;

-- loan_id.pattern (pattern, error)
SELECT COUNT(*) AS failures FROM "analytics_db"."loan_repayment_fact" AS t WHERE "loan_id" IS NOT NULL AND NOT regexp_like("loan_id", '^L[0-9]{5}$');

-- loan_id.foreign_key (foreign_key, error)
SELECT COUNT(*) AS failures FROM "analytics_db"."loan_repayment_fact" AS t LEFT JOIN "analytics_db"."dim_loan" AS r ON t."loan_id" = r."loan_id" WHERE r."loan_id" IS NULL AND t."loan_id" IS NOT NULL;

-- payment_date.not_null (not_null, error)
SELECT COUNT(*) AS failures FROM "analytics_db"."loan_repayment_fact" AS t WHERE "payment_date" IS NULL;

-- emi_amount.min (min, error)
SELECT COUNT(*) AS failures FROM "analytics_db"."loan_repayment_fact" AS t WHERE "emi_amount" < 0;

-- emi_amount.range_soft (range_soft, warn)
SELECT COUNT(*) AS failures FROM "analytics_db"."loan_repayment_fact" AS t WHERE "emi_amount" < 0 OR "emi_amount" > 20000;

-- status.allowed_values (allowed_values, error)
SELECT COUNT(*) AS failures FROM "analytics_db"."loan_repayment_fact" AS t WHERE "status" IS NOT NULL AND "status" NOT IN ('SUCCESS', 'FAILED', 'PENDING');

-- status.length_range (length_range, error)
SELECT COUNT(*) AS failures FROM "analytics_db"."loan_repayment_fact" AS t WHERE "status" IS NOT NULL AND (LENGTH("status") < 4 OR LENGTH("status") > 7);

-- customer_id.null_ratio_max (null_ratio_max, error)
SELECT COUNT(*) AS failures FROM (SELECT AVG(CASE WHEN "customer_id" IS NULL THEN 1.0 ELSE 0.0 END) AS value FROM "analytics_db"."loan_repayment_fact" AS t) AS m WHERE value IS NULL OR value > 0.05;

-- grain_unique (grain_unique, error)
SELECT COUNT(*) AS failures FROM (SELECT "loan_id", "payment_date" FROM "analytics_db"."loan_repayment_fact" AS t GROUP BY "loan_id", "payment_date" HAVING COUNT(*) > 1) AS d;

-- row_count_range (row_count_range, error)
SELECT COUNT(*) AS failures FROM (SELECT COUNT(*) AS value FROM "analytics_db"."loan_repayment_fact" AS t) AS m WHERE value IS NULL OR value < 1 OR value > 1000000;

-- row_count_anomaly (row_count_anomaly, error)
-- compared with stats history: within 20% of the 7-day average
SELECT COUNT(*) AS value FROM "analytics_db"."loan_repayment_fact" AS t;

-- created_at.freshness_sla (freshness_sla, error)
SELECT COUNT(*) AS failures FROM (SELECT date_diff('second', MAX(CAST("created_at" AS timestamp)), current_timestamp) / 3600.0 AS value FROM "analytics_db"."loan_repayment_fact") AS m WHERE value IS NULL OR value > 30;

-- check (check, error)
SELECT COUNT(*) AS failures FROM "analytics_db"."loan_repayment_fact" AS t WHERE NOT (emi_amount >= 0 OR status = 'FAILED');
