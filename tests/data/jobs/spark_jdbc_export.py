import os

from pyspark.sql import SparkSession
from pyspark.sql.functions import col

spark = SparkSession.builder.appName("export_invoices").getOrCreate()

invoices = spark.read.table("finance.invoices")
open_invoices = invoices.filter(
    col("due_date").between("2024-01-01", "2024-12-31") & col("paid_at").isNull()
).select("invoice_id", "customer_id", "amount", "due_date")

jdbc_url = "jdbc:postgresql://reporting-db:5432/reporting"
(open_invoices.write
    .mode("append")
    .jdbc(jdbc_url, "public.open_invoices",
          properties={"user": "etl", "password": os.environ["REPORTING_DB_PASSWORD"]}))
