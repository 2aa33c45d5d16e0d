-- schema_summary.lua: a Glue GetTable response -> the `schema` part of the
-- copilot context (spec §3.1): columns with types, partition keys, location.
-- input: { table = <GetTable JSON> }
return function(input, ctx)
  local t = input.table.Table
  local schema = weir.array({})
  for _, c in ipairs(t.StorageDescriptor.Columns) do
    schema[#schema + 1] = { name = c.Name, type = c.Type, comment = c.Comment or weir.null }
  end
  local partitions = weir.array({})
  for _, p in ipairs(t.PartitionKeys or {}) do
    partitions[#partitions + 1] = p.Name
  end
  return {
    table_name = t.Name,
    database = t.DatabaseName,
    purpose = t.Description or weir.null,
    layer = (t.Parameters or {}).layer or weir.null,
    location = t.StorageDescriptor.Location,
    schema = schema,
    partition_keys = partitions,
  }
end
