-- Spark SQL job (run with spark-sql -f): explode order lines into the item fact.
INSERT OVERWRITE TABLE `dwh`.`fact_order_items` PARTITION (order_date)
SELECT o.order_id,
       item.sku,
       item.qty,
       p.category,
       o.order_date
FROM `sales_raw`.`orders` o
LATERAL VIEW explode(o.items) exploded AS item
JOIN dim.products p ON p.sku = item.sku
WHERE o.order_status = 'SHIPPED';
