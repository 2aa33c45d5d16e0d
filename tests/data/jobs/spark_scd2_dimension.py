"""Slowly changing dimension (type 2) for products, plain PySpark without Delta."""
from pyspark.sql import SparkSession, Window
from pyspark.sql import functions as F

spark = SparkSession.builder.getOrCreate()

incoming = spark.read.parquet("s3://pim-exports/products/latest/")
current = spark.table("dwh.dim_product").where(F.col("is_current"))

changed = (incoming.alias("i")
           .join(current.alias("c"), F.col("i.product_id") == F.col("c.product_id"), "left")
           .where(F.col("c.product_id").isNull() | (F.col("i.hash") != F.col("c.hash")))
           .select("i.*"))

w = Window.partitionBy("product_id").orderBy(F.col("valid_from").desc())
new_rows = (changed
            .withColumn("valid_from", F.current_timestamp())
            .withColumn("is_current", F.lit(True))
            .withColumn("version", F.row_number().over(w)))

new_rows.write.mode("append").insertInto("dwh.dim_product")
