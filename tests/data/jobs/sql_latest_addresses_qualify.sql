-- Databricks SQL: latest address per customer.
INSERT INTO silver.customer_latest_address
WITH addr AS (
    SELECT a.customer_id, a.address_line, a.city, a.country, a.valid_from
    FROM bronze.customer_addresses a
    WHERE a.country IS NOT NULL
)
SELECT DISTINCT addr.customer_id, addr.address_line, addr.city, addr.country
FROM addr
JOIN bronze.customers c ON c.customer_id = addr.customer_id
WHERE c.is_active = true
QUALIFY row_number() OVER (PARTITION BY addr.customer_id ORDER BY addr.valid_from DESC) = 1
