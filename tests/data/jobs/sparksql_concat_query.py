from pyspark.sql import SparkSession

spark = SparkSession.builder.getOrCreate()

SOURCE = "telemetry.device_events"
TARGET = "telemetry_mart.daily_device_health"

query = ("SELECT e.device_id, date(e.event_ts) AS day, "
         "       avg(e.battery_pct) AS avg_battery, "
         "       sum(CASE WHEN e.event_type = 'error' THEN 1 ELSE 0 END) AS errors "
         "FROM " + SOURCE + " e "
         "WHERE e.firmware IS NOT NULL "
         "GROUP BY e.device_id, date(e.event_ts)")

daily = spark.sql(query)
daily.write.mode("overwrite").saveAsTable(TARGET)
