from pyspark.sql import SparkSession

spark = SparkSession.builder.enableHiveSupport().getOrCreate()

with open("sql/extra_adjustments.sql") as fh:
    spark.sql(fh.read())

spark.sql("""
CREATE OR REPLACE TEMPORARY VIEW open_tickets AS
SELECT t.ticket_id, t.queue, t.opened_at
FROM support.tickets t
WHERE t.closed_at IS NULL
""")

spark.sql("""
INSERT INTO support_mart.open_ticket_counts
SELECT o.queue, q.team, count(*) AS open_tickets
FROM open_tickets o
JOIN support.queues q ON o.queue = q.queue_name
GROUP BY o.queue, q.team
""")
