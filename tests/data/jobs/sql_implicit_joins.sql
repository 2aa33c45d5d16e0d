-- Legacy report query still run by the nightly batch (comma joins).
INSERT INTO reports.branch_overdue
SELECT b.branch_code,
       count(DISTINCT l.loan_id) AS overdue_loans,
       sum(i.amount_due)         AS amount_overdue
FROM lending.loans l,
     lending.installments i,
     org.branches b
WHERE l.loan_id = i.loan_id
  AND l.branch_id = b.branch_id
  AND i.due_date < current_date
  AND i.paid_date IS NULL
GROUP BY b.branch_code;
