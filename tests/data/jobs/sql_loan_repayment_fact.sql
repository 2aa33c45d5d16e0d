-- daily loan repayment fact
WITH payments AS (
    SELECT p.loan_id, p.payment_date, p.amount, p.payment_status
    FROM raw_db.raw_payments p
    WHERE p.payment_status IN ('SUCCESS', 'FAILED')
      AND p.amount > 0
),
ranked AS (
    SELECT *, row_number() OVER (PARTITION BY loan_id, payment_date ORDER BY amount DESC) AS rn
    FROM payments
)
INSERT INTO analytics_db.loan_repayment_fact
SELECT r.loan_id, r.payment_date, CAST(r.amount AS decimal(18,2)) AS amount,
       l.customer_id AS borrower_id, sum(r.amount) AS total
FROM ranked r
LEFT JOIN raw_db.loans l ON r.loan_id = l.loan_id AND l.is_active = true
WHERE r.rn = 1 AND l.customer_id IS NOT NULL
GROUP BY 1, 2, 3, 4
HAVING sum(r.amount) > 10;
