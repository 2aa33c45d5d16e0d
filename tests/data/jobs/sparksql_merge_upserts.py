from pyspark.sql import SparkSession
from pyspark.sql import functions as F

spark = SparkSession.builder.getOrCreate()

updates = (spark.read.format("parquet").load("s3://crm-cdc/customers/latest/")
           .filter(F.col("op") != "D")
           .dropDuplicates(["customer_id"]))
updates.createOrReplaceTempView("customer_updates")

spark.sql("""
MERGE INTO crm_gold.customers AS t
USING customer_updates AS u
ON t.customer_id = u.customer_id
WHEN MATCHED THEN UPDATE SET t.email = u.email, t.segment = u.segment
WHEN NOT MATCHED THEN INSERT (customer_id, email, segment) VALUES (u.customer_id, u.email, u.segment)
""")
