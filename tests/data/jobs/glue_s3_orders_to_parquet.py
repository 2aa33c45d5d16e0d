import sys
from awsglue.transforms import *
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from awsglue.context import GlueContext
from awsglue.job import Job

## @params: [JOB_NAME]
args = getResolvedOptions(sys.argv, ['JOB_NAME'])

sc = SparkContext()
glueContext = GlueContext(sc)
spark = glueContext.spark_session
job = Job(glueContext)
job.init(args['JOB_NAME'], args)

# Script generated for node S3 bucket
orders_node = glueContext.create_dynamic_frame.from_options(
    format_options={"multiline": False},
    connection_type="s3",
    format="json",
    connection_options={"paths": ["s3://acme-landing/orders/2024/", "s3://acme-landing/orders-backfill/"], "recurse": True},
    transformation_ctx="orders_node",
)

# Script generated for node Filter
filtered_node = Filter.apply(
    frame=orders_node,
    f=lambda row: (row["order_status"] != "CANCELLED" and row["total"] >= 0),
    transformation_ctx="filtered_node",
)

# Script generated for node ApplyMapping
mapped_node = ApplyMapping.apply(
    frame=filtered_node,
    mappings=[
        ("order_id", "string", "order_id", "string"),
        ("customer", "string", "customer_id", "string"),
        ("total", "double", "order_total", "decimal"),
        ("order_ts", "string", "order_ts", "timestamp"),
    ],
    transformation_ctx="mapped_node",
)

# Script generated for node S3 bucket
sink_node = glueContext.write_dynamic_frame.from_options(
    frame=mapped_node,
    connection_type="s3",
    format="glueparquet",
    connection_options={"path": "s3://acme-curated/orders/", "partitionKeys": ["order_date"]},
    format_options={"compression": "snappy"},
    transformation_ctx="sink_node",
)
job.commit()
