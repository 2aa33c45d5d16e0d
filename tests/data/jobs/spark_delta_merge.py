from delta.tables import DeltaTable
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

spark = SparkSession.builder.getOrCreate()

changes = (spark.read.format("json").load("s3://inventory-landing/stock_levels/")
           .where("warehouse_id IS NOT NULL")
           .withColumn("updated_at", F.to_timestamp("event_time")))

latest = changes.dropDuplicates(["warehouse_id", "sku"])

target = DeltaTable.forName(spark, "inventory.stock_levels")
(target.alias("t")
    .merge(latest.alias("s"), "t.warehouse_id = s.warehouse_id AND t.sku = s.sku")
    .whenMatchedUpdateAll()
    .whenNotMatchedInsertAll()
    .execute())
