import sys
from awsglue.transforms import *
from awsglue.utils import getResolvedOptions
from awsglue.context import GlueContext
from awsglue.job import Job
from pyspark.context import SparkContext
from pyspark.sql import functions as F
from pyspark.sql.window import Window

args = getResolvedOptions(sys.argv, ["JOB_NAME", "run_date"])
sc = SparkContext()
glueContext = GlueContext(sc)
spark = glueContext.spark_session
job = Job(glueContext)
job.init(args["JOB_NAME"], args)

SRC_DB = "raw_db"

payments = glueContext.create_dynamic_frame.from_catalog(
    database=SRC_DB, table_name="raw_payments", transformation_ctx="payments")
loans = glueContext.create_dynamic_frame.from_catalog(database="raw_db", table_name="loans").toDF()

mapped = ApplyMapping.apply(frame=payments, mappings=[
    ("loan_id", "string", "loan_id", "string"),
    ("amt", "string", "amount", "decimal(18,2)"),
    ("paid_at", "string", "payment_date", "date"),
    ("status", "string", "payment_status", "string"),
])
df = mapped.toDF()
df = df.filter(F.col("payment_status").isin("SUCCESS", "FAILED") & (F.col("amount") > 0))
joined = df.join(loans, df.loan_id == loans.loan_id, "left")
w = Window.partitionBy("loan_id", "payment_date").orderBy(F.col("amount").desc())
dedup = (joined.withColumn("rn", F.row_number().over(w))
         .where("rn = 1")
         .drop("rn"))
out = dedup.groupBy("loan_id", "payment_date").agg(F.sum("amount").alias("total_amount"),
                                                   F.count("*").alias("n_payments"))
out.write.mode("overwrite").partitionBy("payment_date").saveAsTable("analytics_db.loan_repayment_fact")
job.commit()
