import sys
from awsglue.transforms import *
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from awsglue.context import GlueContext
from awsglue.job import Job
from awsglue import DynamicFrame


def sparkSqlQuery(glueContext, query, mapping, transformation_ctx) -> DynamicFrame:
    for alias, frame in mapping.items():
        frame.toDF().createOrReplaceTempView(alias)
    result = spark.sql(query)
    return DynamicFrame.fromDF(result, glueContext, transformation_ctx)


args = getResolvedOptions(sys.argv, ["JOB_NAME"])
sc = SparkContext()
glueContext = GlueContext(sc)
spark = glueContext.spark_session
job = Job(glueContext)
job.init(args["JOB_NAME"], args)

# Script generated for node Orders
Orders_node1 = glueContext.create_dynamic_frame.from_catalog(
    database="shop_raw", table_name="orders", transformation_ctx="Orders_node1"
)

# Script generated for node Refunds
Refunds_node2 = glueContext.create_dynamic_frame.from_catalog(
    database="shop_raw", table_name="refunds", transformation_ctx="Refunds_node2"
)

# Script generated for node SQL Query
SqlQuery0 = """
select o.order_id, o.customer_id, o.amount - coalesce(r.refund_amount, 0) as net_amount
from orders o
left join refunds r on o.order_id = r.order_id
where o.order_status = 'DELIVERED'
"""
SQLQuery_node3 = sparkSqlQuery(
    glueContext,
    query=SqlQuery0,
    mapping={"orders": Orders_node1, "refunds": Refunds_node2},
    transformation_ctx="SQLQuery_node3",
)

# Script generated for node Data Catalog table
DataCatalogtable_node4 = glueContext.write_dynamic_frame.from_catalog(
    frame=SQLQuery_node3,
    database="shop_curated",
    table_name="net_orders",
    transformation_ctx="DataCatalogtable_node4",
)

job.commit()
