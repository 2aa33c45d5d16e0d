"""Trino -> SQLite: the textual rewrite of a query and the Trino functions and
aggregates registered on the SQLite connection."""

import datetime
import json
import math
import re
from decimal import ROUND_HALF_UP, Decimal

from .catalog import hive_base
from .common import SqlFail


_LIT_RE = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|/\*.*?\*/", re.S)


def protect(sql):
    """Replace literals and quoted identifiers by placeholders; drop comments."""
    saved = []

    def sub(m):
        s = m.group(0)
        if s.startswith("--") or s.startswith("/*"):
            return " "
        saved.append(s)
        return ("\x01%d\x01" if s[0] == "'" else "\x02%d\x02") % (len(saved) - 1)
    out = _LIT_RE.sub(sub, sql)
    if "'" in out or '"' in out:
        raise SqlFail("SYNTAX_ERROR: line 1:1: unterminated string literal or quoted identifier")
    return out, saved


def restore(sql, saved):
    return re.sub(r"[\x01\x02](\d+)[\x01\x02]", lambda m: saved[int(m.group(1))], sql)


def _match_close(s, i, open_c, close_c):
    """Index of the bracket closing the one at s[i]."""
    depth = 0
    for j in range(i, len(s)):
        if s[j] == open_c:
            depth += 1
        elif s[j] == close_c:
            depth -= 1
            if depth == 0:
                return j
    raise SqlFail("SYNTAX_ERROR: unbalanced %s%s" % (open_c, close_c))


CAST_TYPES = {"varchar", "char", "string", "date", "timestamp", "json", "double", "real",
              "float", "decimal", "bigint", "integer", "int", "smallint", "tinyint", "boolean"}
_CAST_RE = re.compile(r"\b(try_cast|cast)\s*\(", re.I)


def _rewrite_casts(s):
    out, pos = [], 0
    while True:
        m = _CAST_RE.search(s, pos)
        if not m:
            out.append(s[pos:])
            return "".join(out)
        open_i = m.end() - 1
        close_i = _match_close(s, open_i, "(", ")")
        inner = _rewrite_casts(s[open_i + 1:close_i])
        am = None
        for am in re.finditer(r"\bAS\s+([A-Za-z]+)\s*(\([\s\d,]*\))?\s*$", inner, re.I):
            pass
        if am is None:
            raise SqlFail("SYNTAX_ERROR: CAST needs 'AS <type>'")
        expr, typ = inner[:am.start()], am.group(1).lower()
        args = re.sub(r"\s+", "", am.group(2) or "")
        if hive_base(typ) not in CAST_TYPES:
            raise SqlFail("TYPE_NOT_FOUND: Unknown type: %s%s" % (typ, args))
        rep = "weir_cast(%s, '%s%s', %d)" % (expr, typ, args, m.group(1).lower() == "cast")
        out.append(s[pos:m.start()])
        out.append(rep)
        pos = close_i + 1


_HINT_FUNCS = {"regexp_like": "boolean", "bool_and": "boolean", "bool_or": "boolean",
               "every": "boolean", "count": "bigint", "count_if": "bigint",
               "approx_distinct": "bigint", "cardinality": "bigint", "length": "bigint",
               "strpos": "bigint", "json_format": "varchar", "histogram": "varchar",
               "approx_most_frequent": "varchar"}
_CLAUSE_RE = re.compile(r"\b(FROM|WHERE|GROUP|HAVING|ORDER|LIMIT|OFFSET|FETCH|UNION|EXCEPT|"
                        r"INTERSECT|WINDOW)\b", re.I)


def select_hints(protected):
    """Trino result types the select list states outright (CAST(... AS t), a boolean or
    counting function, a date literal), one entry per item, None where it does not say;
    None when the statement is not a plain SELECT list."""
    m = re.match(r"\s*SELECT\s+(DISTINCT\s+|ALL\s+)?", protected, re.I)
    if not m:
        return None
    depth, i, start, items = 0, m.end(), m.end(), []
    while i < len(protected):
        c = protected[i]
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif depth == 0 and c == ",":
            items.append(protected[start:i])
            start = i + 1
        elif depth == 0 and c.isalpha() and (i == 0 or not protected[i - 1].isalnum()):
            if _CLAUSE_RE.match(protected, i):
                break
        i += 1
    items.append(protected[start:i])
    hints = []
    alias = r"\s*(?:AS\s+)?(?:[A-Za-z_][A-Za-z0-9_]*|\x02\d+\x02)?\s*$"
    for it in items:
        it = it.strip()
        hint = None
        fm = re.match(r"(try_cast|cast|[A-Za-z_]+)\s*\(", it, re.I)
        if fm:
            close_i = _match_close(it, fm.end() - 1, "(", ")")
            if re.fullmatch(alias, it[close_i + 1:], re.I):
                name = fm.group(1).lower()
                if name in ("cast", "try_cast"):
                    tm = re.search(r"\bAS\s+([A-Za-z]+\s*(\([\s\d,]*\))?)\s*$",
                                   it[fm.end():close_i], re.I)
                    if tm:
                        hint = re.sub(r"\s+", "", tm.group(1).lower())
                else:
                    hint = _HINT_FUNCS.get(name)
        elif re.match(r"(date|timestamp)\s+\x01\d+\x01" + alias, it, re.I):
            hint = it.split()[0].lower()
        elif re.match(r"(true|false)" + alias, it, re.I):
            hint = "boolean"
        hints.append(hint)
    return hints


def translate_sql(sql, saved):
    """The minimal Trino -> SQLite rewrite documented in README.md (on protected text)."""
    s = sql

    def is_str(ph):
        return ph.startswith("\x01")
    # date '...' / timestamp '...' literals -> the string
    s = re.sub(r"\b(date|timestamp)\s+(\x01\d+\x01)", r"\2", s, flags=re.I)
    # <string literal or name> +/- INTERVAL 'n' unit -> weir_interval(x, n, unit, +-1)
    s = re.sub(r"(\x01\d+\x01|\x02\d+\x02|[A-Za-z_][A-Za-z0-9_.]*)\s*([+-])\s*INTERVAL\s+"
               r"(\x01\d+\x01)\s+(SECOND|MINUTE|HOUR|DAY|WEEK)S?\b",
               lambda m: "weir_interval(%s, %s, '%s', %d)" % (
                   m.group(1), m.group(3), m.group(4).lower(), 1 if m.group(2) == "+" else -1),
               s, flags=re.I)
    # awsdatacatalog.<db>.<table>
    s = re.sub(r"\bawsdatacatalog\s*\.\s*", "", s, flags=re.I)
    for i, lit in enumerate(saved):
        if lit.lower() == '"awsdatacatalog"':
            s = re.sub(r"\x02%d\x02\s*\.\s*" % i, "", s)
    s = re.sub(r"\bTABLESAMPLE\s+(BERNOULLI|SYSTEM)\s*\([^)]*\)", " ", s, flags=re.I)
    s = re.sub(r"\bIS\s+NOT\s+DISTINCT\s+FROM\b", "IS", s, flags=re.I)
    s = re.sub(r"\bIS\s+DISTINCT\s+FROM\b", "IS NOT", s, flags=re.I)
    while True:
        m = re.search(r"\bARRAY\s*\[", s, re.I)
        if not m:
            break
        close_i = _match_close(s, m.end() - 1, "[", "]")
        s = s[:m.start()] + "json_array(" + s[m.end():close_i] + ")" + s[close_i + 1:]
    s = _rewrite_casts(s)
    # quote bare aliases: Trino allows names SQLite reserves (nothing, action, ...)
    s = re.sub(r"\bAS\s+([A-Za-z_][A-Za-z0-9_]*)\b(?!\s*\()",
               lambda m: m.group(0) if m.group(1).upper() in ("TEXT", "REAL", "INTEGER")
               and re.match(r"\s*\)", s[m.end():]) else 'AS "%s"' % m.group(1), s, flags=re.I)
    return s


class AggCountIf:
    def __init__(self):
        self.n = 0

    def step(self, x):
        if x:
            self.n += 1

    def finalize(self):
        return self.n


class AggApproxDistinct:
    def __init__(self):
        self.s = set()

    def step(self, x, err=None):
        if x is not None:
            self.s.add(x)

    def finalize(self):
        return len(self.s)


def _percentile(sorted_vals, p):
    if not 0 <= p <= 1:
        raise ValueError("INVALID_FUNCTION_ARGUMENT: Percentile must be between 0 and 1")
    n = len(sorted_vals)
    return sorted_vals[min(n - 1, max(0, int(math.ceil(p * n)) - 1))]


class AggPercentile:
    def __init__(self):
        self.vals, self.p = [], None

    def step(self, x, p):
        if self.p is None:
            self.p = p
        if x is not None:
            self.vals.append(x)

    def finalize(self):
        if not self.vals:
            return None
        v = sorted(self.vals)
        p = self.p
        if isinstance(p, str):
            ps = json.loads(p)
            return json.dumps([_percentile(v, float(q)) for q in ps])
        return _percentile(v, float(p))


class AggStddev:
    samp, sqrt = True, True

    def __init__(self):
        self.vals = []

    def step(self, x):
        if x is not None:
            self.vals.append(float(x))

    def finalize(self):
        n = len(self.vals)
        if n < (2 if self.samp else 1):
            return None
        mean = sum(self.vals) / n
        var = sum((v - mean) ** 2 for v in self.vals) / (n - 1 if self.samp else n)
        return math.sqrt(var) if self.sqrt else var


class AggStddevPop(AggStddev):
    samp = False


class AggVarSamp(AggStddev):
    sqrt = False


class AggVarPop(AggStddev):
    samp, sqrt = False, False


class AggTopK:
    def __init__(self):
        self.counts, self.k = {}, None

    def step(self, k, x, cap=None):
        self.k = k
        if x is not None:
            self.counts[x] = self.counts.get(x, 0) + 1

    def finalize(self):
        items = sorted(self.counts.items(), key=lambda kv: (-kv[1], str(kv[0])))[:int(self.k or 0)]
        return json.dumps({str(k): v for k, v in items})


class AggHistogram:
    def __init__(self):
        self.counts = {}

    def step(self, x):
        if x is not None:
            self.counts[x] = self.counts.get(x, 0) + 1

    def finalize(self):
        return json.dumps({str(k): v for k, v in sorted(self.counts.items(),
                                                         key=lambda kv: str(kv[0]))})


class AggArbitrary:
    def __init__(self):
        self.v = None

    def step(self, x):
        if self.v is None:
            self.v = x

    def finalize(self):
        return self.v


class AggBoolAnd:
    def __init__(self):
        self.v = None

    def step(self, x):
        if x is not None:
            self.v = bool(x) if self.v is None else (self.v and bool(x))

    def finalize(self):
        return None if self.v is None else int(self.v)


class AggBoolOr(AggBoolAnd):
    def step(self, x):
        if x is not None:
            self.v = bool(x) if self.v is None else (self.v or bool(x))


def _weir_date(x):
    if x is None:
        return None
    s = str(x)
    if re.match(r"^\d{4}-\d{2}-\d{2}", s):
        return s[:10]
    raise ValueError("INVALID_CAST_ARGUMENT: Value cannot be cast to date: %s" % s[:40])


def _weir_bool(x):
    if x is None:
        return None
    if isinstance(x, str):
        v = x.strip().lower()
        if v in ("true", "1"):
            return 1
        if v in ("false", "0"):
            return 0
        raise ValueError("INVALID_CAST_ARGUMENT: Cannot cast '%s' to BOOLEAN" % x[:40])
    return 1 if x else 0


def _weir_cast(x, typ, strict):
    """CAST (strict) / TRY_CAST of x to the Trino type typ."""
    if x is None:
        return None
    base = hive_base(typ)
    try:
        if base in ("bigint", "integer", "int", "smallint", "tinyint"):
            if isinstance(x, float):   # Trino rounds half away from zero
                return int(math.floor(abs(x) + 0.5)) * (1 if x >= 0 else -1)
            return x if isinstance(x, int) else int(str(x).strip())
        if base in ("double", "real", "float"):
            return float(x)
        if base == "decimal":
            m = re.search(r",(\d+)\)", typ)
            q = Decimal(1).scaleb(-int(m.group(1)) if m else 0)
            return float(Decimal(repr(float(x))).quantize(q, rounding=ROUND_HALF_UP))
        if base in ("varchar", "char", "string"):
            return java_double(x) if isinstance(x, float) else str(x)
        if base == "date":
            return _weir_date(x)
        if base == "boolean":
            return _weir_bool(x)
        return x if base == "json" else str(x)
    except (ValueError, TypeError, OverflowError):
        if strict:
            raise ValueError("INVALID_CAST_ARGUMENT: Cannot cast '%s' to %s" %
                             (str(x)[:40], typ.upper()))
        return None


_TS_FORMATS = ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d")
_UNIT_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 604800}


def _to_datetime(x):
    """A date or timestamp value (text as SQLite holds it) as a datetime, or None."""
    if x is None:
        return None
    text = str(x).strip().replace("T", " ")
    for fmt in _TS_FORMATS:
        try:
            return datetime.datetime.strptime(text, fmt.replace("T", " "))
        except ValueError:
            continue
    raise ValueError("INVALID_CAST_ARGUMENT: Value cannot be cast to timestamp: %s" % text[:40])


def _date_diff(unit, a, b):
    """Trino date_diff(unit, a, b): whole units from a to b (seconds .. weeks)."""
    da, db = _to_datetime(a), _to_datetime(b)
    if da is None or db is None:
        return None
    per = _UNIT_SECONDS.get(str(unit).lower())
    if per is None:
        raise ValueError("INVALID_FUNCTION_ARGUMENT: '%s' is not a valid unit" % unit)
    return int((db - da).total_seconds() // per)


def _interval_add(ts, amount, unit, sign):
    """ts + INTERVAL 'amount' unit (sign -1 for minus), as Trino's timestamp text."""
    d = _to_datetime(ts)
    if d is None:
        return None
    per = _UNIT_SECONDS.get(str(unit).lower().rstrip("s"))
    if per is None:
        raise ValueError("NOT_SUPPORTED: INTERVAL unit %s" % unit)
    d += datetime.timedelta(seconds=sign * float(amount) * per)
    return d.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def _regexp_like(s, p):
    if s is None or p is None:
        return None
    return 1 if re.search(p, str(s)) else 0


def _cardinality(a):
    if a is None:
        return None
    v = json.loads(a) if isinstance(a, str) else a
    return len(v)


def _strpos(s, sub):
    if s is None or sub is None:
        return None
    return str(s).find(str(sub)) + 1


def _concat(*a):
    if any(x is None for x in a):
        return None
    return "".join(str(x) for x in a)


def _extreme(pick):
    def f(*a):
        if any(x is None for x in a):
            return None
        return pick(a)
    return f


def _json_extract_scalar(j, path):
    if j is None:
        return None
    try:
        v = json.loads(j)
    except ValueError:
        return None
    for part in re.findall(r"\.([A-Za-z0-9_]+)|\[(\d+)\]", path or ""):
        key, idx = part
        try:
            v = v[key] if key else v[int(idx)]
        except (KeyError, IndexError, TypeError):
            return None
    if isinstance(v, (dict, list)):
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    return None if v is None else str(v)


def register_functions(conn, errs):
    """Trino functions SQLite lacks; their error messages are collected in errs (SQLite
    itself only reports "user-defined function raised exception")."""
    def keep(e):
        msg = str(e)
        errs.append(msg if re.match(r"^[A-Z_]+: ", msg) else "INVALID_FUNCTION_ARGUMENT: " + msg)

    def wrap(f):
        def g(*a):
            try:
                return f(*a)
            except Exception as e:
                keep(e)
                raise
        return g

    def wrap_agg(cls):
        class Wrapped(cls):
            def step(self, *a):
                try:
                    return cls.step(self, *a)
                except Exception as e:
                    keep(e)
                    raise

            def finalize(self):
                try:
                    return cls.finalize(self)
                except Exception as e:
                    keep(e)
                    raise
        return Wrapped
    for name, cls, n in (("count_if", AggCountIf, 1), ("approx_distinct", AggApproxDistinct, 1),
                         ("approx_distinct", AggApproxDistinct, 2),
                         ("approx_percentile", AggPercentile, 2),
                         ("stddev", AggStddev, 1), ("stddev_samp", AggStddev, 1),
                         ("stddev_pop", AggStddevPop, 1), ("variance", AggVarSamp, 1),
                         ("var_samp", AggVarSamp, 1), ("var_pop", AggVarPop, 1),
                         ("approx_most_frequent", AggTopK, 2),
                         ("approx_most_frequent", AggTopK, 3), ("histogram", AggHistogram, 1),
                         ("arbitrary", AggArbitrary, 1), ("any_value", AggArbitrary, 1),
                         ("bool_and", AggBoolAnd, 1), ("every", AggBoolAnd, 1),
                         ("bool_or", AggBoolOr, 1)):
        conn.create_aggregate(name, n, wrap_agg(cls))
    for name, n, f in (("weir_cast", 3, _weir_cast), ("json_format", 1, lambda x: x),
                       ("cardinality", 1, _cardinality), ("regexp_like", 2, _regexp_like),
                       ("strpos", 2, _strpos), ("concat", -1, _concat),
                       ("greatest", -1, _extreme(max)), ("least", -1, _extreme(min)),
                       ("json_extract_scalar", 2, _json_extract_scalar),
                       ("date_diff", 3, _date_diff), ("weir_interval", 4, _interval_add)):
        conn.create_function(name, n, wrap(f), deterministic=True)


def java_double(v):
    """A double as Trino/Java prints it (1.0E7, 6814.74, 0.5)."""
    if v != v:
        return "NaN"
    if v in (float("inf"), float("-inf")):
        return "Infinity" if v > 0 else "-Infinity"
    if v == 0:
        return "-0.0" if math.copysign(1, v) < 0 else "0.0"
    a = abs(v)
    if 1e-3 <= a < 1e7:
        s = repr(v)
        if "e" in s:
            s = format(v, "f")
        return s if "." in s else s + ".0"
    t = Decimal(repr(v)).as_tuple()
    digits = "".join(map(str, t.digits))
    exp = t.exponent + len(t.digits) - 1
    d = digits.rstrip("0") or "0"
    return ("-" if t.sign else "") + d[0] + "." + (d[1:] or "0") + "E" + str(exp)
