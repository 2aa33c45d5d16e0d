from pyspark.sql import SparkSession, functions as F

spark = (SparkSession.builder
         .appName("vendor_spend")
         .config("spark.sql.shuffle.partitions", "200")
         .getOrCreate())

invoices = spark.read.parquet("s3://ap-raw/invoices/2024/", "s3://ap-raw/invoices/2023/")
vendors = spark.read.table("procurement.vendors")
blocked = spark.read.table("procurement.blocked_vendors")

active_vendors = vendors.join(blocked, vendors.vendor_id == blocked.vendor_id, how="left_anti")

spend = (invoices
         .join(active_vendors, "vendor_id", "left_semi")
         .where(F.col("invoice_status") == "APPROVED")
         .groupby("vendor_id", F.year("invoice_date").alias("year"))
         .agg({"net_amount": "sum"}))

spend.write.insertInto("finance_mart.vendor_spend_yearly", overwrite=True)
