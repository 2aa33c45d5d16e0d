from pyspark.sql import SparkSession

spark = SparkSession.builder.enableHiveSupport().getOrCreate()

spark.read.parquet("s3://billing-raw/invoices/").createOrReplaceTempView("invoices")
spark.table("billing.plans").createOrReplaceTempView("plans")

monthly = spark.sql("""
    WITH paid AS (
        SELECT i.account_id, i.plan_id, date_trunc('month', i.paid_at) AS month, i.amount
        FROM invoices i
        WHERE i.status = 'PAID'
          AND i.amount > 0
    )
    SELECT p.account_id, pl.plan_name, p.month, SUM(p.amount) AS mrr
    FROM paid p
    JOIN plans pl ON p.plan_id = pl.plan_id
    GROUP BY p.account_id, pl.plan_name, p.month
""")

monthly.write.mode("overwrite").saveAsTable("finance_mart.monthly_recurring_revenue")
