# Sessionise clickstream events: a new session after 30 minutes of inactivity.
from pyspark.sql import SparkSession, Window
from pyspark.sql.functions import col, lag, sum as sum_, unix_timestamp, when

SESSION_GAP_SECONDS = 30 * 60

spark = SparkSession.builder.getOrCreate()

events = (spark.read.format("json")
          .option("multiLine", "false")
          .load("s3://clickstream-raw/events/dt=2024-06-01/"))

events = events.where(col("user_id").isNotNull()).where(col("event_type") != "heartbeat")

by_user = Window.partitionBy("user_id").orderBy("event_ts")

sessions = (events
            .withColumn("prev_ts", lag("event_ts").over(by_user))
            .withColumn("gap", unix_timestamp("event_ts") - unix_timestamp("prev_ts"))
            .withColumn("new_session", when(col("gap") > SESSION_GAP_SECONDS, 1).otherwise(0))
            .withColumn("session_no", sum_("new_session").over(by_user))
            .drop("prev_ts", "gap"))

(sessions.write
    .mode("append")
    .partitionBy("event_date")
    .parquet("s3://clickstream-curated/sessions/"))
