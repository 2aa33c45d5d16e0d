import sys
from awsglue.context import GlueContext
from awsglue.dynamicframe import DynamicFrame
from awsglue.job import Job
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
import pyspark.sql.functions as F
from pyspark.sql.window import Window

args = getResolvedOptions(sys.argv, ["JOB_NAME"])
glue = GlueContext(SparkContext.getOrCreate())
job = Job(glue)
job.init(args["JOB_NAME"], args)

txn = glue.create_dynamic_frame.from_catalog(database="cards_raw", table_name="card_transactions").toDF()
merchants = glue.create_dynamic_frame.from_catalog(database="cards_ref", table_name="merchants").toDF()

txn = txn.dropDuplicates(["txn_id"])
txn = txn.where((F.col("amount") > 0) & F.col("merchant_id").isNotNull())

latest = Window.partitionBy("card_id").orderBy(F.col("txn_ts").desc())
txn = txn.withColumn("txn_seq", F.row_number().over(latest))

enriched = txn.join(F.broadcast(merchants), ["merchant_id"], "inner") \
    .select("txn_id", "card_id", "merchant_id", F.col("mcc").alias("merchant_category"),
            F.col("amount").cast("decimal(18,2)").alias("amount"), "txn_ts", "txn_seq")

glue.write_dynamic_frame.from_options(
    frame=DynamicFrame.fromDF(enriched, glue, "enriched"),
    connection_type="s3",
    connection_options={"path": "s3://cards-curated/transactions_enriched/"},
    format="parquet",
)
job.commit()
