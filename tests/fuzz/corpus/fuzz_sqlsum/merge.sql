-- Upsert today's CRM changes into the customer dimension.
MERGE INTO dwh.dim_customer AS d
USING (
    SELECT c.customer_id, c.email, c.segment, c.updated_at
    FROM staging.crm_changes c
    WHERE c.change_date = current_date
) AS s
ON d.customer_id = s.customer_id
WHEN MATCHED AND s.updated_at > d.updated_at THEN
    UPDATE SET email = s.email, segment = s.segment, updated_at = s.updated_at
WHEN NOT MATCHED THEN
    INSERT (customer_id, email, segment, updated_at)
    VALUES (s.customer_id, s.email, s.segment, s.updated_at);
