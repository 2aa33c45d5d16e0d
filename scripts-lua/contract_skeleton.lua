-- contract_skeleton.lua: a first data_quality object (spec §3.2, DESIGN §7)
-- derived from the profile alone, every rule citing the stat it rests on.
-- It is a starting point a person (or the LLM) refines, so it only states
-- what the data already shows:
--   not_null        columns with no null in the profiled rows
--   allowed_values  low-cardinality text columns whose values repeat (all
--                   values known exactly: distinct <= 10, from top_values)
--   min 0           numeric columns with no negative value
-- input: { context = <copilot_context output>, profile = <engine.profile output> }
-- Evidence holds no run date or time: a rerun on unchanged data must give a
-- byte-identical contract.

local MAX_ALLOWED = 10

local NUMERIC = { tinyint = true, smallint = true, int = true, integer = true, bigint = true,
                  float = true, double = true }

local function is_numeric(hive_type)
  return NUMERIC[hive_type] or hive_type:match("^decimal") ~= nil
end

local function is_text(hive_type)
  return hive_type == "string" or hive_type:match("^varchar") ~= nil or hive_type:match("^char") ~= nil
end

local function allowed_values(s, rows)
  local non_null = rows - s.null_count
  -- every value known exactly, few of them, and each seen twice on average:
  -- five distinct values in five rows are more likely identifiers than a domain
  if not (s.distinct_exact and s.top_values_exact) or s.distinct_count == 0
      or s.distinct_count > MAX_ALLOWED or #s.top_values ~= s.distinct_count
      or non_null < 2 * s.distinct_count then
    return nil
  end
  local values, seen = weir.array({}), {}
  for i, tv in ipairs(s.top_values) do
    values[i] = tv.value
    seen[i] = string.format("%s %d", tv.value, tv.count)
  end
  return {
    type = "allowed_values",
    values = values,
    -- a new value can be legitimate: a person promotes this to an error
    severity = "warn",
    evidence = string.format("%d distinct values in %d non-null rows: %s",
      s.distinct_count, non_null, table.concat(seen, ", ")),
  }
end

return function(input, ctx)
  local c, p = input.context, input.profile
  local rows = p.row_count
  local columns = weir.object({})

  for _, col in ipairs(c.schema) do
    local s = p.column_stats[col.name]
    local rules = weir.array({})
    if s ~= nil and rows > 0 then
      if s.null_count == 0 then
        rules[#rules + 1] = { type = "not_null", severity = "error",
          evidence = string.format("null_count 0 in %d rows", rows) }
      end
      local allowed = is_text(col.type) and s.inferred_type == "string" and allowed_values(s, rows)
      if allowed then rules[#rules + 1] = allowed end
      if is_numeric(col.type) and type(s.min) == "number" and s.min >= 0 then
        rules[#rules + 1] = { type = "min", value = 0, severity = "error",
          evidence = string.format("min %s in %d rows", tostring(s.min), rows) }
      end
    end
    columns[col.name] = { type = col.type, nullable = col.nullable, rules = rules }
  end

  return {
    data_quality = {
      table_name = c.table_name,
      owner = c.owner,
      description = c.purpose,
      columns = columns,
      table_level_checks = {
        { type = "row_count_range", min = 1, severity = "error",
          evidence = string.format("row_count %d in %d files", rows, p.files) },
      },
    },
  }
end
