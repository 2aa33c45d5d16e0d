import sys

from awsglue.utils import getResolvedOptions
from pyspark.sql import SparkSession

args = getResolvedOptions(sys.argv, ["run_date"])
run_date = args["run_date"]

spark = SparkSession.builder.enableHiveSupport().getOrCreate()
spark.conf.set("spark.sql.sources.partitionOverwriteMode", "dynamic")

spark.sql(f"""
INSERT OVERWRITE TABLE dwh.fact_shipments PARTITION (ship_date)
SELECT s.shipment_id,
       s.order_id,
       c.carrier_name,
       s.weight_kg,
       s.ship_date
FROM logistics_raw.shipments s
LEFT JOIN logistics_ref.carriers c
  ON s.carrier_code = c.carrier_code
WHERE s.ship_date = '{run_date}'
  AND s.status <> 'VOID'
""")
