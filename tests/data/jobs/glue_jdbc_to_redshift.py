import sys
from awsglue.context import GlueContext
from awsglue.transforms import Relationalize, ApplyMapping
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext

args = getResolvedOptions(sys.argv, ["JOB_NAME", "TempDir"])
glueContext = GlueContext(SparkContext.getOrCreate())

orders = glueContext.create_dynamic_frame.from_options(
    connection_type="postgresql",
    connection_options={
        "useConnectionProperties": "true",
        "dbtable": "public.orders",
        "connectionName": "shop-postgres",
    },
)
orders = ApplyMapping.apply(
    frame=orders,
    mappings=[("id", "int", "order_id", "bigint"), ("total", "numeric", "order_total", "decimal(12,2)")],
)

glueContext.write_dynamic_frame.from_jdbc_conf(
    frame=orders,
    catalog_connection="redshift-dwh",
    connection_options={"dbtable": "staging.orders", "database": "dwh"},
    redshift_tmp_dir=args["TempDir"],
)
