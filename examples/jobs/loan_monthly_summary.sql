-- Monthly repayments per loan product, for the collections dashboard: reads
-- analytics_db.loan_repayment_fact. Plain SQL that runs on Athena (Trino) and on
-- the embedded engine (SQLite), so impact's shadow run can try it on local data.
INSERT INTO analytics_db.loan_monthly_summary
SELECT
    substr(CAST(f.payment_date AS varchar), 1, 7) AS month,
    l.product,
    COUNT(*) AS payments,
    SUM(f.emi_amount) AS total_emi,
    SUM(CASE WHEN f.status = 'FAILED' THEN 1 ELSE 0 END) AS failed_payments
FROM analytics_db.loan_repayment_fact f
JOIN analytics_db.dim_loan l ON l.loan_id = f.loan_id
GROUP BY substr(CAST(f.payment_date AS varchar), 1, 7), l.product;
