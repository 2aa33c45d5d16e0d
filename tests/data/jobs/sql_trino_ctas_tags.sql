CREATE TABLE marketing.campaign_tags
WITH (format = 'PARQUET', partitioned_by = ARRAY['campaign_date'])
AS
SELECT c.campaign_id,
       t.tag,
       c.channel,
       c.campaign_date
FROM marketing_raw.campaigns c
CROSS JOIN UNNEST(c.tags) AS t(tag)
WHERE c.channel IN ('email', 'push')
  AND cardinality(filter(c.tags, x -> x <> '')) > 0
