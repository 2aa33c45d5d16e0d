from pyspark.sql import SparkSession
from pyspark.sql import functions as F

spark = SparkSession.builder.appName("daily_sales").enableHiveSupport().getOrCreate()

sales = spark.read.parquet("s3://retail-lake/raw/pos_sales/")
stores = spark.table("ref.stores")

daily = (
    sales.filter("sale_amount > 0 AND status = 'COMPLETE'")
    .join(stores, ["store_id", "region"], "inner")
    .withColumn("sale_date", F.to_date("sold_at"))
    .groupBy("store_id", "region", "sale_date")
    .agg(
        F.sum("sale_amount").alias("revenue"),
        F.countDistinct("basket_id").alias("baskets"),
    )
)

daily.write.mode("overwrite").insertInto("mart.daily_sales")
