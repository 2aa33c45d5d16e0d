from pyspark.sql import SparkSession
from pyspark.sql.functions import *
from pyspark.sql.types import DoubleType

spark = SparkSession.builder.getOrCreate()

trips = spark.table("mobility.trips")
zones = spark.table("mobility.zones")

trips = trips.filter((col("distance_km") > 0) & (col("fare") < 500))
enriched = trips.join(zones.hint("broadcast"),
                      (trips.pickup_zone == zones.zone_id) & (trips.city == zones.city),
                      "left_outer")

features = enriched.select(
    "*",
    expr("fare / distance_km AS fare_per_km"),
    (col("tip") / col("fare")).cast(DoubleType()).alias("tip_ratio"),
)

(features.write
    .partitionBy("trip_date")
    .mode("overwrite")
    .format("parquet")
    .option("compression", "snappy")
    .saveAsTable("mobility_features.trip_features"))
