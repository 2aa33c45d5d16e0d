"""Glue job: one row per loan repayment (EMI) from the payment gateway's raw feed.

Reads raw_db.raw_payments for one day, keeps the payments that settled or
failed, checks each against its loan and customer, and writes
analytics_db.loan_repayment_fact.
"""
import sys

from awsglue.context import GlueContext
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from pyspark.sql import functions as F

args = getResolvedOptions(sys.argv, ["JOB_NAME", "run_date"])
glue = GlueContext(SparkContext.getOrCreate())
spark = glue.spark_session

payments = spark.table("raw_db.raw_payments").filter(F.col("dt") == args["run_date"])
loans = spark.table("analytics_db.dim_loan")
customers = spark.table("analytics_db.dim_customer")

payments = payments.filter(F.col("payment_status").isin("SUCCESS", "FAILED", "PENDING"))

fact = (
    payments.join(loans.select("loan_id"), on="loan_id", how="inner")
    .join(customers.select("customer_id"), on="customer_id", how="inner")
    .select(
        "loan_id",
        "customer_id",
        F.to_date("paid_at").alias("payment_date"),
        F.col("amount").cast("double").alias("emi_amount"),
        F.col("payment_status").alias("status"),
        F.current_timestamp().alias("created_at"),
    )
)

fact.write.mode("append").saveAsTable("analytics_db.loan_repayment_fact")
