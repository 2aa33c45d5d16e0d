"""Athena: the query state machine, running a query on SQLite over the
catalog's tables, result types and values in Trino's form."""

import csv
import io
import os
import re
import sqlite3
import threading
import time
import uuid

from .catalog import CatalogError, hive_base, load_table
from .common import BUCKET_RE, ApiError, SqlFail, b64tok, untok
from .trino_sql import java_double, protect, register_functions, restore, select_hints, \
    translate_sql


TRINO_TYPES = {"string": "varchar", "varchar": "varchar", "char": "char", "int": "integer",
               "integer": "integer", "bigint": "bigint", "smallint": "smallint",
               "tinyint": "tinyint", "double": "double", "float": "real", "real": "real",
               "decimal": "decimal", "boolean": "boolean", "date": "date",
               "timestamp": "timestamp", "binary": "varbinary", "array": "array", "map": "map",
               "struct": "row"}
PRECISION = {"varchar": 2147483647, "char": 2147483647, "bigint": 19, "integer": 10,
             "smallint": 5, "tinyint": 3, "double": 17, "real": 7, "boolean": 0, "date": 0,
             "timestamp": 3, "varbinary": 2147483647, "array": 0, "map": 0, "row": 0}


def column_type(name, values, declared, hint=None):
    """(trino type, precision, scale) of a result column: the type the select list
    states, else the declared type of a same-named table column, else from the values."""
    dec = hint or declared.get(name.lower())
    nonnull = [v for v in values if v is not None]
    if dec:
        base = TRINO_TYPES.get(hive_base(dec), "varchar")
        ok = True
        if base in ("bigint", "integer", "smallint", "tinyint", "boolean"):
            ok = all(isinstance(v, int) for v in nonnull)
        elif base in ("double", "real", "decimal"):
            ok = all(isinstance(v, (int, float)) for v in nonnull)
        else:
            ok = all(isinstance(v, str) for v in nonnull)
        if ok:
            if base == "decimal":
                m = re.search(r"\((\d+)\s*,\s*(\d+)\)", dec)
                p, s = (int(m.group(1)), int(m.group(2))) if m else (38, 0)
                return "decimal", p, s
            if base == "varchar" and re.search(r"\(\d+\)", dec):
                return base, int(re.search(r"\((\d+)\)", dec).group(1)), 0
            return base, PRECISION.get(base, 0), 0
    if nonnull and all(isinstance(v, int) for v in nonnull):
        return "bigint", 19, 0
    if nonnull and all(isinstance(v, (int, float)) for v in nonnull):
        return "double", 17, 0
    return "varchar", 2147483647, 0


def render_value(v, typ, scale):
    if v is None:
        return None
    if typ == "boolean" and isinstance(v, int):
        return "true" if v else "false"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if typ == "decimal":
            return "%.*f" % (scale, v)
        if typ in ("bigint", "integer", "smallint", "tinyint") and v.is_integer():
            return str(int(v))
        return java_double(v)
    if isinstance(v, bytes):
        return v.hex()
    return str(v)


def statement_type(sql):
    m = re.match(r"\s*\(*\s*([A-Za-z]+)", sql)
    kw = m.group(1).upper() if m else ""
    if kw in ("SELECT", "WITH", "VALUES", "TABLE"):
        return "DML", "SELECT"
    if kw in ("SHOW", "DESCRIBE", "EXPLAIN"):
        return "UTILITY", kw
    if kw in ("CREATE", "DROP", "ALTER", "MSCK"):
        return "DDL", kw
    return "DML", kw


def run_query(state, q):
    """Executes q.query; sets q.columns/q.rows or raises SqlFail."""
    cat = state.catalog
    text = q.query
    stype, sub = statement_type(text)
    q.statement_type, q.substatement = stype, sub
    m = re.match(r"\s*SHOW\s+(DATABASES|SCHEMAS)\s*;?\s*$", text, re.I)
    if m:
        q.columns = [("database_name", "varchar", 2147483647, 0)]
        q.rows = [[d] for d in cat.databases()]
        return
    m = re.match(r"\s*SHOW\s+TABLES(?:\s+(?:IN|FROM)\s+\"?([A-Za-z0-9_]+)\"?)?\s*;?\s*$", text,
                 re.I)
    if m:
        db = m.group(1) or q.database
        if not cat.has_db(db):
            raise SqlFail("SCHEMA_NOT_FOUND: Schema '%s' does not exist" % db)
        q.columns = [("tab_name", "varchar", 2147483647, 0)]
        q.rows = [[t] for t in cat.tables(db)]
        return
    if stype != "DML" or sub != "SELECT":
        raise SqlFail("NOT_SUPPORTED: this test server runs SELECT, WITH, VALUES, SHOW "
                      "DATABASES and SHOW TABLES, not %s" % (sub or "an empty statement"))
    if q.database and not cat.has_db(q.database):
        raise SqlFail("SCHEMA_NOT_FOUND: Schema '%s' does not exist" % q.database)
    protected, saved = protect(text)
    hints = select_hints(protected)
    sql = restore(translate_sql(protected, saved), saved).strip().rstrip(";")
    words = set(w.lower() for w in re.findall(r"[A-Za-z0-9_]+", sql))
    conn = sqlite3.connect(":memory:", check_same_thread=False)
    declared = {}
    try:
        errs = []
        register_functions(conn, errs)
        dbs = [d for d in cat.databases() if d.lower() in words or d == q.database]
        if len(dbs) > 9:
            raise SqlFail("NOT_SUPPORTED: a query may use at most 9 databases here")
        scanned = 0
        for d in dbs:
            conn.execute('ATTACH DATABASE \':memory:\' AS "%s"' % d)
            for name in cat.tables(d):
                if name.lower() not in words:
                    continue
                t = cat.table(d, name)
                scanned += load_table(conn, cat, t)
                for c in t["StorageDescriptor"]["Columns"] + (t.get("PartitionKeys") or []):
                    key = c["Name"].lower()
                    if declared.get(key, c["Type"]) != c["Type"]:
                        declared[key] = None
                    elif key not in declared:
                        declared[key] = c["Type"]
                if d == q.database:
                    conn.execute('CREATE TEMP VIEW "%s" AS SELECT * FROM "%s"."%s"' %
                                 (name, d, name))
        declared = {k: v for k, v in declared.items() if v}
        q.scanned = scanned
        try:
            cur = conn.execute(sql)
            rows = cur.fetchall()
        except sqlite3.Warning as e:
            raise SqlFail("NOT_SUPPORTED: %s" % e)
        except sqlite3.Error as e:
            raise SqlFail(errs[0] if errs else trino_reason(str(e), q.database))
        names = [d[0] for d in cur.description or []]
        if not hints or len(hints) != len(names):
            hints = [None] * len(names)
        cols = []
        for i, n in enumerate(names):
            typ, prec, scale = column_type(n, [r[i] for r in rows], declared, hints[i])
            cols.append((n, typ, prec, scale))
        q.columns = cols
        q.rows = [[render_value(v, cols[i][1], cols[i][3]) for i, v in enumerate(r)]
                  for r in rows]
    except CatalogError as e:
        raise SqlFail("HIVE_METASTORE_ERROR: %s" % e)
    finally:
        conn.close()


def trino_reason(msg, db):
    m = re.match(r"no such column: (.*)", msg)
    if m:
        return "COLUMN_NOT_FOUND: line 1:1: Column '%s' cannot be resolved" % m.group(1)
    m = re.match(r"no such table: (.*)", msg)
    if m:
        name = m.group(1)
        if "." not in name and db:
            name = db + "." + name
        return "TABLE_NOT_FOUND: line 1:1: Table 'awsdatacatalog.%s' does not exist" % name
    m = re.match(r"no such function: (.*)", msg)
    if m:
        return "FUNCTION_NOT_FOUND: line 1:1: Function '%s' not registered" % m.group(1)
    if "syntax error" in msg or "incomplete input" in msg:
        return "SYNTAX_ERROR: line 1:1: %s" % msg
    if "INVALID_" in msg:
        return msg[msg.index("INVALID_"):]
    return "GENERIC_USER_ERROR: %s" % msg


class Query:
    def __init__(self, qid, body, polls):
        self.id = qid
        self.query = body["QueryString"]
        ctx = body.get("QueryExecutionContext") or {}
        self.database = ctx.get("Database")
        self.catalog_name = ctx.get("Catalog") or "awsdatacatalog"
        self.workgroup = body.get("WorkGroup") or "primary"
        out = ((body.get("ResultConfiguration") or {}).get("OutputLocation") or
               "s3://aws-athena-query-results/")
        self.output = out.rstrip("/") + "/" + qid + ".csv"
        m = re.search(r"/\*\s*weir:polls\s*=\s*(\d+)\s*\*/", self.query)
        self.polls_needed = int(m.group(1)) if m else polls
        self.polls = 0
        self.visible = "QUEUED"
        self.done = threading.Event()
        self.error = None
        self.cancelled = False
        self.columns, self.rows = [], []
        self.statement_type, self.substatement = statement_type(self.query)
        self.scanned = 0
        self.engine_ms = 0
        self.submitted = time.time()
        self.completed = None

    def execution(self):
        st = {"State": self.visible, "SubmissionDateTime": round(self.submitted, 3)}
        if self.visible in ("SUCCEEDED", "FAILED", "CANCELLED"):
            st["CompletionDateTime"] = round(self.completed or time.time(), 3)
        if self.visible == "FAILED":
            st["StateChangeReason"] = self.error
            st["AthenaError"] = {"ErrorCategory": 2, "ErrorType": 1006, "Retryable": False,
                                 "ErrorMessage": self.error}
        if self.visible == "CANCELLED":
            st["StateChangeReason"] = "Query was cancelled by user"
        terminal = self.visible in ("SUCCEEDED", "FAILED", "CANCELLED")
        ms = self.engine_ms if terminal else 0
        ex = {"QueryExecutionId": self.id, "Query": self.query,
              "StatementType": self.statement_type,
              "ResultConfiguration": {"OutputLocation": self.output},
              "ResultReuseConfiguration": {"ResultReuseByAgeConfiguration": {"Enabled": False}},
              "QueryExecutionContext": {"Catalog": self.catalog_name.lower()},
              "Status": st,
              "Statistics": {"EngineExecutionTimeInMillis": ms,
                             "DataScannedInBytes": self.scanned if terminal else 0,
                             "TotalExecutionTimeInMillis": ms + 3 if terminal else 0,
                             "QueryQueueTimeInMillis": 1 if terminal else 0,
                             "ServicePreProcessingTimeInMillis": 1 if terminal else 0,
                             "QueryPlanningTimeInMillis": 1 if terminal else 0,
                             "ServiceProcessingTimeInMillis": 1 if terminal else 0,
                             "ResultReuseInformation": {"ReusedPreviousResult": False}},
              "WorkGroup": self.workgroup,
              "EngineVersion": {"SelectedEngineVersion": "AUTO",
                                "EffectiveEngineVersion": "Athena engine version 3"},
              "SubstatementType": self.substatement}
        if self.database:
            ex["QueryExecutionContext"]["Database"] = self.database
        return ex


def athena_execute(state, q):
    t0 = time.time()
    try:
        run_query(state, q)
        write_result_csv(state, q)
    except SqlFail as e:
        q.error = str(e)
    except Exception as e:  # a bug here must show up as a FAILED query, not a hang
        q.error = "GENERIC_INTERNAL_ERROR: %s: %s" % (type(e).__name__, e)
    q.engine_ms = max(1, int((time.time() - t0) * 1000))
    q.completed = time.time()
    q.done.set()


def write_result_csv(state, q):
    m = re.match(r"s3://([^/]+)/(.*)$", q.output)
    if not m or not BUCKET_RE.match(m.group(1)):
        return
    path = os.path.join(state.args.s3_root, m.group(1), m.group(2))
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    if q.statement_type == "DML":
        w.writerow([c[0] for c in q.columns])
    for r in q.rows:
        w.writerow(["" if v is None else v for v in r])
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(buf.getvalue())
    except OSError:
        pass


def _athena_query(state, body):
    qid = body.get("QueryExecutionId")
    if not isinstance(qid, str) or not qid:
        raise ApiError(400, "InvalidRequestException", "QueryExecutionId is required",
                       AthenaErrorCode="INVALID_INPUT")
    with state.lock:
        q = state.queries.get(qid)
    if q is None:
        raise ApiError(400, "InvalidRequestException", "QueryExecution %s was not found" % qid,
                       AthenaErrorCode="INVALID_INPUT")
    return q


def athena_handle(state, op, body):
    if op == "StartQueryExecution":
        qs = body.get("QueryString")
        if not isinstance(qs, str) or not qs.strip() or len(qs.encode()) > 262144:
            raise ApiError(400, "InvalidRequestException",
                           "QueryString must be 1..262144 bytes", AthenaErrorCode="INVALID_INPUT")
        for k in ("QueryExecutionContext", "ResultConfiguration"):
            if not isinstance(body.get(k, {}), dict):
                raise ApiError(400, "InvalidRequestException", "%s must be an object" % k,
                               AthenaErrorCode="INVALID_INPUT")
        for k, v in list((body.get("QueryExecutionContext") or {}).items()) + [
                ("WorkGroup", body.get("WorkGroup", "primary")),
                ("OutputLocation", (body.get("ResultConfiguration") or {}).get(
                    "OutputLocation", "s3://x/"))]:
            if not isinstance(v, str) or not v:
                raise ApiError(400, "InvalidRequestException", "%s must be a non-empty string"
                               % k, AthenaErrorCode="INVALID_INPUT")
        tok = body.get("ClientRequestToken")
        if tok is not None and (not isinstance(tok, str) or not 32 <= len(tok) <= 128):
            raise ApiError(400, "InvalidRequestException",
                           "ClientRequestToken must be 32..128 characters",
                           AthenaErrorCode="INVALID_INPUT")
        with state.lock:
            if tok and tok in state.tokens:
                return {"QueryExecutionId": state.tokens[tok]}
            q = Query(str(uuid.uuid4()), body, state.athena_polls)
            state.queries[q.id] = q
            if tok:
                state.tokens[tok] = q.id
        threading.Thread(target=athena_execute, args=(state, q), daemon=True).start()
        return {"QueryExecutionId": q.id}
    if op == "GetQueryExecution":
        q = _athena_query(state, body)
        with state.lock:
            if q.visible in ("SUCCEEDED", "FAILED", "CANCELLED"):
                return {"QueryExecution": q.execution()}
            q.polls += 1
            if q.polls <= q.polls_needed:
                q.visible = "QUEUED" if q.polls == 1 and q.polls_needed >= 2 else "RUNNING"
                return {"QueryExecution": q.execution()}
        done = q.done.wait(10)  # the query itself takes milliseconds
        with state.lock:
            if q.visible not in ("SUCCEEDED", "FAILED", "CANCELLED"):
                q.visible = ("FAILED" if q.error else "SUCCEEDED") if done else "RUNNING"
            return {"QueryExecution": q.execution()}
    if op == "StopQueryExecution":
        q = _athena_query(state, body)
        with state.lock:
            if q.visible not in ("SUCCEEDED", "FAILED", "CANCELLED"):
                q.visible = "CANCELLED"
                q.completed = time.time()
        return {}
    if op == "GetQueryResults":
        q = _athena_query(state, body)
        if q.visible != "SUCCEEDED":
            raise ApiError(400, "InvalidRequestException",
                           "Query has not yet finished. Current state: %s" % q.visible
                           if q.visible in ("QUEUED", "RUNNING") else
                           "Query did not succeed. Current state: %s" % q.visible,
                           AthenaErrorCode="INVALID_INPUT")
        mr = body.get("MaxResults", 1000)
        if not isinstance(mr, int) or isinstance(mr, bool) or not 1 <= mr <= 1000:
            raise ApiError(400, "InvalidRequestException",
                           "MaxResults must be between 1 and 1000", AthenaErrorCode="INVALID_INPUT")
        header = q.statement_type == "DML"
        allrows = ([[c[0] for c in q.columns]] if header else []) + q.rows
        off = 0
        tok = body.get("NextToken")
        if tok is not None:
            t = untok(tok) if isinstance(tok, str) else None
            if not isinstance(t, dict) or t.get("q") != q.id or not isinstance(t.get("o"), int) \
                    or not 0 < t["o"] <= len(allrows):
                raise ApiError(400, "InvalidRequestException", "NextToken is not valid for "
                               "query %s" % q.id, AthenaErrorCode="INVALID_INPUT")
            off = t["o"]
        page = allrows[off:off + mr]
        out = {"UpdateCount": 0, "ResultSet": {
            "Rows": [{"Data": [{} if v is None else {"VarCharValue": v} for v in r]}
                     for r in page],
            "ResultSetMetadata": {"ColumnInfo": [
                {"CatalogName": "hive", "SchemaName": "", "TableName": "", "Name": n,
                 "Label": n, "Type": typ, "Precision": prec, "Scale": scale,
                 "Nullable": "UNKNOWN", "CaseSensitive": typ in ("varchar", "char")}
                for n, typ, prec, scale in q.columns]}}}
        if off + mr < len(allrows):
            out["NextToken"] = b64tok({"q": q.id, "o": off + mr})
        return out
    raise ApiError(400, "InvalidRequestException",
                   "AmazonAthena.%s is not implemented by this test server (StartQueryExecution, "
                   "GetQueryExecution, GetQueryResults, StopQueryExecution)" % op,
                   AthenaErrorCode="INVALID_INPUT")
