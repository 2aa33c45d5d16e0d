"""Orders enriched with customers; structured as small functions like most teams do."""
import logging

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

log = logging.getLogger(__name__)

ORDERS_TABLE = "sales_raw.orders"
CUSTOMERS_TABLE = "crm.customers"
TARGET_TABLE = "sales_mart.orders_enriched"


def read_orders(spark: SparkSession) -> DataFrame:
    return spark.table(ORDERS_TABLE).filter(F.col("order_date") >= "2024-01-01")


def read_customers(spark):
    customers = spark.table(CUSTOMERS_TABLE)
    return customers.filter(customers.is_deleted == False)


def enrich(orders, customers):
    o = orders.alias("o")
    c = customers.alias("c")
    joined = o.join(c, F.col("o.customer_id") == F.col("c.id"), how="left_outer")
    return joined.select(
        "o.order_id",
        "o.customer_id",
        F.col("c.segment").alias("customer_segment"),
        F.col("o.amount"),
    )


def write(df):
    log.info("writing %s", TARGET_TABLE)
    df.write.format("delta").mode("overwrite").saveAsTable(TARGET_TABLE)


def main():
    spark = SparkSession.builder.appName("orders_enriched").getOrCreate()
    orders = read_orders(spark)
    customers = read_customers(spark)
    write(enrich(orders, customers))


if __name__ == "__main__":
    main()
