import sys
from awsglue.context import GlueContext
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from pyspark.sql import functions as F

args = getResolvedOptions(sys.argv, ["JOB_NAME"])
glueContext = GlueContext(SparkContext.getOrCreate())

EXCLUDED_STATES = ["TEST", "DELETED"]

users = glueContext.create_data_frame.from_catalog(database="app_raw", table_name="users")
logins = glueContext.create_data_frame.from_catalog(database="app_raw", table_name="logins")

active = (users
          .filter(~F.col("state").isin(EXCLUDED_STATES))
          .withColumnRenamed("id", "user_id")
          .withColumn("segment", F.when(F.col("plan") == "free", "free").otherwise("paid")))

last_login = logins.groupBy("user_id").agg(F.max("login_ts").alias("last_login_ts"))
result = active.join(last_login, active["user_id"] == last_login["user_id"])

result.write.format("delta").mode("overwrite").option("overwriteSchema", "true") \
    .saveAsTable("app_curated.user_activity")
