"""Subscription churn snapshot, written as an extract/transform/load class."""
from datetime import date

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F


class ChurnSnapshotJob:
    def __init__(self, spark: SparkSession, snapshot_date: str):
        self.spark = spark
        self.snapshot_date = snapshot_date

    def extract(self):
        subs = self.spark.table("billing.subscriptions")
        cancels = self.spark.table("billing.cancellations")
        return subs, cancels

    def transform(self, subs: DataFrame, cancels: DataFrame) -> DataFrame:
        active = subs.filter(F.col("status") == "ACTIVE")
        joined = active.join(cancels, on=["subscription_id"], how="left")
        return (joined
                .withColumn("churned", F.col("cancelled_at").isNotNull())
                .groupBy("plan_id", "churned")
                .agg(F.countDistinct("subscription_id").alias("subscriptions")))

    def load(self, df: DataFrame):
        df.write.mode("overwrite").saveAsTable("analytics.churn_snapshot")

    def run(self):
        subs, cancels = self.extract()
        self.load(self.transform(subs, cancels))


if __name__ == "__main__":
    spark = SparkSession.builder.getOrCreate()
    ChurnSnapshotJob(spark, date.today().isoformat()).run()
