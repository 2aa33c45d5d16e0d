CREATE OR REPLACE VIEW reporting.active_accounts AS
SELECT a.account_id,
       a.owner_name AS holder,
       b.branch_name,
       CAST(a.balance AS DECIMAL(18, 2)) AS balance,
       count(t.txn_id) AS txn_count
FROM core.accounts a
JOIN core.branches b ON a.branch_id = b.branch_id
LEFT JOIN core.transactions t ON t.account_id = a.account_id AND t.txn_date >= DATE '2024-01-01'
WHERE a.status = 'ACTIVE'
  AND a.account_id NOT IN (SELECT f.account_id FROM risk.frozen_accounts f WHERE f.released_at IS NULL)
GROUP BY a.account_id, a.owner_name, b.branch_name, a.balance
HAVING count(t.txn_id) >= 1;
