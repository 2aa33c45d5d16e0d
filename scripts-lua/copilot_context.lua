-- copilot_context.lua: the context object of spec §3.1, what a copilot (the
-- LLM, or the builtin generator) reasons from: what the catalog says about a
-- table and what its data says.
-- input: { table = <catalog.get_table output>, profile = <engine.profile output> }
--
-- The full profile goes to stats-history; the context keeps the stats the
-- spec names (null_pct, distinct_count, min, max, p95, top_values) plus mean
-- and p50, so the prompt stays small whatever the table's width.

-- Top values only carry meaning for low-cardinality columns; for the others
-- they are noise in a prompt.
local LOW_CARDINALITY = 10

local function brief(s)
  local b = {
    null_pct = s.null_pct,
    distinct_count = s.distinct_count,
    min = s.min,
    max = s.max,
  }
  if s.p95 ~= nil then
    b.mean, b.p50, b.p95 = s.mean, s.p50, s.p95
  end
  if s.top_values_exact and s.distinct_count <= LOW_CARDINALITY then
    b.top_values = s.top_values
  end
  return b
end

return function(input, ctx)
  local t = input.table.Table
  local stats = input.profile.column_stats

  -- Glue knows no nullability: a column is nullable when the data has nulls.
  local schema = weir.array({})
  for _, c in ipairs(t.StorageDescriptor.Columns) do
    local s = stats[c.Name]
    schema[#schema + 1] = { name = c.Name, type = c.Type, nullable = s == nil or s.null_count > 0 }
  end
  local partition_keys = weir.array({})
  for _, p in ipairs(t.PartitionKeys or {}) do
    partition_keys[#partition_keys + 1] = p.Name
  end

  -- Glue has no CHECK constraints either; teams keep them as table
  -- parameters "constraint.<name>" = "<SQL boolean expression>".
  local params = t.Parameters or {}
  local names = {}
  for k in pairs(params) do
    if k:match("^constraint%.") then names[#names + 1] = k end
  end
  table.sort(names) -- pairs() has no order; the context must not change between runs
  local constraints = weir.array({})
  for _, k in ipairs(names) do
    constraints[#constraints + 1] = { name = k:sub(#"constraint." + 1), type = "CHECK", expression = params[k] }
  end

  local column_stats = weir.object({})
  for name, s in pairs(stats) do
    column_stats[name] = brief(s)
  end

  return {
    table_name = t.Name,
    database = t.DatabaseName,
    layer = params.layer or weir.null,
    owner = params.owner or weir.null,
    purpose = t.Description or weir.null,
    location = t.StorageDescriptor.Location,
    schema = schema,
    partition_keys = partition_keys,
    constraints = constraints,
    row_count = input.profile.row_count,
    column_stats = column_stats,
  }
end
