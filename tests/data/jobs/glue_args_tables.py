"""Generic Glue loader: source and target tables come from job arguments."""
import sys
from awsglue.context import GlueContext
from awsglue.dynamicframe import DynamicFrame
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from pyspark.sql import functions as F

args = getResolvedOptions(sys.argv, ["JOB_NAME", "source_table", "target_table"])
glueContext = GlueContext(SparkContext.getOrCreate())
spark = glueContext.spark_session

source_db = "landing"
src = glueContext.create_dynamic_frame.from_catalog(database=source_db, table_name=args["source_table"])
countries = spark.table(f"{source_db}.ref_countries")

df = src.toDF()
df = df.join(countries, on="country_code", how="left")
df = df.filter(F.col("is_test").isNull() | (F.col("is_test") == False))
df = df.withColumn("load_ts", F.current_timestamp())

out = DynamicFrame.fromDF(df, glueContext, "out")
glueContext.write_dynamic_frame.from_catalog(frame=out, database="staging", table_name=args["target_table"])
