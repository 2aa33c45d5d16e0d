from awsglue.context import GlueContext
from awsglue.transforms import ApplyMapping
from pyspark.context import SparkContext

glue_context = GlueContext(SparkContext.getOrCreate())

devices = glue_context.create_dynamic_frame_from_options(
    "s3",
    {"paths": ["s3://iot-landing/devices/"], "recurse": True},
    format="csv",
    format_options={"withHeader": True},
)
readings = glue_context.create_dynamic_frame_from_catalog("iot_raw", "sensor_readings")

readings = ApplyMapping.apply(readings, [("dev", "string", "device_id", "string"),
                                         ("val", "string", "reading", "double")])
joined = readings.join(["device_id"], ["device_id"], devices)

glue_context.write_dynamic_frame_from_catalog(joined, "iot_curated", "device_readings")
