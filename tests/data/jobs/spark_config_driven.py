"""Union of the regional order feeds into one Delta table, driven by a config dict."""
from functools import reduce

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

CONFIG = {
    "regions": ["emea", "amer", "apac"],
    "source_db": "orders_raw",
    "target_path": "s3://lake-gold/orders_global/",
}

spark = SparkSession.builder.getOrCreate()

frames = []
for region in CONFIG["regions"]:
    df = spark.table(f"{CONFIG['source_db']}.orders_{region}")
    frames.append(df.withColumn("region", F.lit(region)))

orders = spark.table("orders_raw.orders_emea")
for region in ["amer", "apac"]:
    orders = orders.unionByName(spark.table("orders_raw.orders_" + region))

orders = orders.filter(F.col("order_ts") >= F.lit("2024-01-01")).dropDuplicates(["order_id", "region"])

orders.write.format("delta").mode("append").save(CONFIG["target_path"])
