import sys
from awsglue.context import GlueContext
from awsglue.job import Job
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext

args = getResolvedOptions(sys.argv, ["JOB_NAME"])
sc = SparkContext()
glue_ctx = GlueContext(sc)
spark = glue_ctx.spark_session
job = Job(glue_ctx)
job.init(args["JOB_NAME"], args)

# job bookmarks: only rows changed since the last successful run
payments_dyf = glue_ctx.create_dynamic_frame.from_catalog(
    database="payments_raw",
    table_name="card_payments",
    additional_options={"jobBookmarkKeys": ["updated_at"], "jobBookmarkKeysSortOrder": "asc"},
    transformation_ctx="payments_dyf",
)
payments_dyf.toDF().createOrReplaceTempView("payments")

converted = spark.sql("""
    SELECT p.payment_id,
           p.merchant_id,
           p.amount * fx.rate_to_eur AS amount_eur,
           to_date(p.updated_at)     AS dt
    FROM payments p
    INNER JOIN reference.fx_rates fx
            ON p.currency = fx.currency
           AND to_date(p.updated_at) = fx.rate_date
    WHERE p.amount IS NOT NULL
""")

converted.write.mode("append").format("parquet").partitionBy("dt").save("s3://payments-curated/payments_eur/")
job.commit()
