-- contract_skeleton.lua: a first data_quality object (spec §3.2 shape) from
-- the schema and row counts alone. Columns named *_id or typed date are
-- assumed required; the contract plugin replaces this with rules drawn from
-- profiled data.
-- input: { context = <schema_summary output>, partition_rows = [{file, rows}] }
return function(input, ctx)
  local c = input.context
  local columns = {}
  for _, col in ipairs(c.schema) do
    local required = col.name:match("_id$") ~= nil or col.type == "date"
    local rules = weir.array({})
    if required then rules[#rules + 1] = { type = "not_null", severity = "error" } end
    columns[col.name] = { type = col.type, nullable = not required, rules = rules }
  end
  local total = 0
  for _, p in ipairs(input.partition_rows) do total = total + p.rows end
  return {
    data_quality = {
      table_name = c.table_name,
      description = c.purpose,
      columns = columns,
      table_level_checks = {
        -- no run date in the evidence: a rerun on unchanged data must give
        -- a byte-identical contract
        { type = "row_count_range", min = 1, evidence = string.format("%d rows in %d partitions",
            total, #input.partition_rows) },
      },
    },
  }
end
