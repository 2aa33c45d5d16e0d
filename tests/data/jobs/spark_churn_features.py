from pyspark.sql import SparkSession
from pyspark.sql import functions as F

spark = SparkSession.builder.getOrCreate()

accounts = spark.table("bank.accounts").alias("a")
txns = spark.read.table("bank.transactions").alias("t")
complaints = spark.table("support.complaints")
closed = spark.table("bank.closed_accounts")

activity = (txns.groupBy("account_id")
            .agg(F.count("*").alias("txn_count_90d"), F.max("txn_date").alias("last_txn_date")))

features = (accounts
            .join(activity, on="account_id", how="left")
            .join(complaints.groupBy("account_id").agg(F.count("*").alias("complaints_90d")),
                  "account_id", "left")
            .join(closed, accounts.account_id == closed.account_id, "left_anti")
            .withColumn("tenure_days", F.datediff(F.current_date(), F.col("opened_at")))
            .withColumn("churn_risk", F.when(F.col("txn_count_90d") < 3, "high").otherwise("low"))
            .filter(F.col("account_type").isin(["CHECKING", "SAVINGS"]))
            .dropDuplicates(["account_id"]))

features.write.mode("overwrite").saveAsTable("ml_features.churn_features")
