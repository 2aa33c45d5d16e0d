from pyspark.sql import SparkSession

spark = SparkSession.builder.getOrCreate()

src_table = "hr_raw.employees"
dept_table = "hr_raw.departments"
target = "hr_mart.headcount_by_department"

sql = """
SELECT d.department_name, count(e.employee_id) AS headcount
FROM {emp} e
JOIN {dept} d ON e.department_id = d.department_id
WHERE e.terminated_on IS NULL
GROUP BY d.department_name
""".format(emp=src_table, dept=dept_table)

spark.sql(sql).write.mode("overwrite").saveAsTable(target)
