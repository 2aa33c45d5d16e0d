# Reconcile the bank statement CSV drop against the ledger.
from pyspark.sql import SparkSession
import pyspark.sql.functions as F

spark = SparkSession.builder.appName("reconcile").getOrCreate()

statement = (spark.read
             .options(header=True, inferSchema=True, delimiter=";")
             .csv("s3://finance-drop/bank_statements/2024-06/"))
ledger = spark.table("finance.general_ledger").where(F.expr("posting_date >= date'2024-06-01'"))

stmt = statement.selectExpr("txn_ref AS reference", "CAST(amount AS DECIMAL(18,2)) AS amount",
                            "to_date(value_date, 'dd.MM.yyyy') AS value_date")

recon = stmt.join(ledger,
                  [stmt.reference == ledger.reference, stmt.amount == ledger.amount],
                  how="outer")
breaks = recon.filter(stmt.reference.isNull() | ledger.reference.isNull())

(breaks.write
    .option("path", "s3://finance-curated/recon_breaks/")
    .mode("overwrite")
    .saveAsTable("finance.recon_breaks"))
