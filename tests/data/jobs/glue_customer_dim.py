"""Glue job: customer dimension from the CRM export, today's partition only."""
import sys

from awsglue.context import GlueContext
from awsglue.job import Job
from awsglue.transforms import DropNullFields, RenameField, ResolveChoice, SelectFields
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext

args = getResolvedOptions(sys.argv, ["JOB_NAME"])
glue_context = GlueContext(SparkContext.getOrCreate())
job = Job(glue_context)
job.init(args["JOB_NAME"], args)

crm = glue_context.create_dynamic_frame.from_catalog(
    database="crm_raw",
    table_name="customers_export",
    push_down_predicate="ingest_date = '2024-06-01' and country = 'DE'",
    transformation_ctx="crm",
)
crm = ResolveChoice.apply(frame=crm, choice="make_cols", transformation_ctx="resolve")
crm = RenameField.apply(frame=crm, old_name="cust_no", new_name="customer_id")
crm = RenameField.apply(frame=crm, old_name="e_mail", new_name="email")
crm = SelectFields.apply(frame=crm, paths=["customer_id", "email", "country", "segment", "created_at"])
crm = DropNullFields.apply(frame=crm)

glue_context.write_dynamic_frame.from_catalog(
    frame=crm,
    database="curated",
    table_name="dim_customer",
    transformation_ctx="write_dim",
)
job.commit()
