import sys
from awsglue.transforms import Join, DropFields
from awsglue.utils import getResolvedOptions
from awsglue.context import GlueContext
from pyspark.context import SparkContext

glueContext = GlueContext(SparkContext.getOrCreate())

policies = glueContext.create_dynamic_frame.from_catalog(database="insurance_raw", table_name="policies")
claims = glueContext.create_dynamic_frame.from_catalog(database="insurance_raw", table_name="claims")

claims_by_policy = Join.apply(frame1=claims, frame2=policies, keys1=["policy_id"], keys2=["policy_no"])
claims_by_policy = DropFields.apply(frame=claims_by_policy, paths=["policy_no", "internal_notes"])

sink = glueContext.getSink(
    path="s3://insurance-curated/claims_enriched/",
    connection_type="s3",
    updateBehavior="UPDATE_IN_DATABASE",
    partitionKeys=["claim_year"],
    enableUpdateCatalog=True,
    transformation_ctx="sink",
)
sink.setCatalogInfo(catalogDatabase="insurance_curated", catalogTableName="claims_enriched")
sink.setFormat("glueparquet")
sink.writeFrame(claims_by_policy)
