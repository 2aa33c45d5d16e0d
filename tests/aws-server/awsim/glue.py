"""Glue Data Catalog operations over the catalog: databases, tables, partitions,
CreateTable / UpdateTable in memory."""

import json
import os
import re
import sqlite3
import time
import urllib.parse

from .catalog import CATALOG_ID, NAME_RE, CatalogError, complete_table
from .common import ApiError, b64tok, untok


def _page(state, items, body, limit, op, scope):
    """One page of items: (page, next_token or None)."""
    mr = body.get("MaxResults")
    if mr is None:
        size = state.args.glue_page_size
    elif not isinstance(mr, int) or isinstance(mr, bool) or not 1 <= mr <= limit:
        raise ApiError(400, "InvalidInputException",
                       "1 validation error detected: Value '%s' at 'maxResults' failed to satisfy "
                       "constraint: Member must have value between 1 and %d" % (mr, limit))
    else:
        size = mr
    off, empty_done = 0, False
    tok = body.get("NextToken")
    if tok is not None:
        t = untok(tok) if isinstance(tok, str) else None
        if not isinstance(t, dict) or t.get("op") != op or t.get("scope") != scope or \
                not isinstance(t.get("off"), int):
            raise ApiError(400, "InvalidInputException",
                           "NextToken is not valid for %s of %s" % (op, scope or "the catalog"))
        off, empty_done = t["off"], bool(t.get("e"))
        if t.get("empty"):
            return [], b64tok({"op": op, "scope": scope, "off": off, "e": True})
    page = items[off:off + size]
    nxt = None
    if off + size < len(items):
        e = empty_done or state.args.no_glue_empty_page
        nxt = b64tok({"op": op, "scope": scope, "off": off + size, "e": e, "empty": not e})
    return page, nxt


def glue_handle(state, op, body):
    cat = state.catalog
    try:
        if op == "GetDatabases":
            names = cat.databases()
            page, nxt = _page(state, names, body, 100, op, "")
            dbs = []
            for n in page:
                st = os.stat(os.path.join(cat.root, n))
                dbs.append({"Name": n, "Parameters": {}, "CreateTime": int(st.st_mtime),
                            "CatalogId": CATALOG_ID,
                            "CreateTableDefaultPermissions": [
                                {"Principal": {"DataLakePrincipalIdentifier":
                                               "IAM_ALLOWED_PRINCIPALS"},
                                 "Permissions": ["ALL"]}]})
            out = {"DatabaseList": dbs}
            if nxt:
                out["NextToken"] = nxt
            return out
        db = body.get("DatabaseName")
        if not isinstance(db, str) or not db:
            raise ApiError(400, "InvalidInputException",
                           "1 validation error detected: Value null at 'databaseName' failed to "
                           "satisfy constraint: Member must not be null")
        if not cat.has_db(db):
            raise ApiError(400, "EntityNotFoundException", "Database %s not found." % db)
        if op == "GetTables":
            names = cat.tables(db)
            expr = body.get("Expression")
            if expr:
                pat = expr if ".*" in expr else expr.replace("*", ".*")
                try:
                    rx = re.compile(pat, re.I)
                except re.error as e:
                    raise ApiError(400, "InvalidInputException",
                                   "Expression %r is not a valid pattern: %s" % (expr, e))
                names = [n for n in names if rx.fullmatch(n)]
            page, nxt = _page(state, names, body, 100, op, db)
            out = {"TableList": [cat.table(db, n) for n in page]}
            if nxt:
                out["NextToken"] = nxt
            return out
        if op in ("CreateTable", "UpdateTable"):
            return glue_put_table(state, op, db, body)
        if op in ("GetTable", "GetPartitions"):
            key = "Name" if op == "GetTable" else "TableName"
            name = body.get(key)
            if not isinstance(name, str) or not name:
                raise ApiError(400, "InvalidInputException",
                               "1 validation error detected: Value null at '%s' failed to "
                               "satisfy constraint: Member must not be null" %
                               (key[0].lower() + key[1:]))
            t = cat.table(db, name)
            if t is None:
                raise ApiError(400, "EntityNotFoundException", "Table %s not found." % name)
            if op == "GetTable":
                return {"Table": t}
            parts = list_partitions(cat, t)
            if body.get("Expression"):
                parts = filter_partitions(t, parts, body["Expression"])
            page, nxt = _page(state, parts, body, 1000, op, db + "." + name)
            out = {"Partitions": [partition_obj(t, p) for p in page]}
            if nxt:
                out["NextToken"] = nxt
            return out
    except CatalogError as e:
        raise ApiError(500, "InternalServiceException", str(e))
    raise ApiError(400, "UnknownOperationException",
                   "AWSGlue.%s is not implemented by this test server (GetDatabases, GetTables, "
                   "GetTable, GetPartitions, CreateTable, UpdateTable)" % op)


def glue_put_table(state, op, db, body):
    """CreateTable / UpdateTable: kept in memory (the catalog files are never written)."""
    cat = state.catalog
    ti = body.get("TableInput")
    if not isinstance(ti, dict) or not isinstance(ti.get("Name"), str) or \
            not NAME_RE.match(ti.get("Name", "")):
        raise ApiError(400, "InvalidInputException", "TableInput with a Name of letters, digits "
                       "and underscores is required")
    name = ti["Name"]
    sd = ti.get("StorageDescriptor", {})
    if not isinstance(sd, dict) or not isinstance(sd.get("Columns", []), list) or \
            not isinstance(ti.get("PartitionKeys", []), list):
        raise ApiError(400, "InvalidInputException", "TableInput.StorageDescriptor.Columns and "
                       "TableInput.PartitionKeys must be lists")
    with state.lock:
        existing = cat.table(db, name)
        if op == "CreateTable" and existing is not None:
            raise ApiError(400, "AlreadyExistsException", "Table already exists.")
        if op == "UpdateTable":
            if existing is None:
                raise ApiError(400, "EntityNotFoundException", "Table %s not found." % name)
            vid = body.get("VersionId")
            if vid is not None and vid != existing.get("VersionId"):
                raise ApiError(400, "ConcurrentModificationException", "Update table failed due "
                               "to concurrent modifications: VersionId %s is not the current "
                               "version %s" % (vid, existing.get("VersionId")))
        t = json.loads(json.dumps(ti))
        t["DatabaseName"] = db
        now = int(time.time())
        t["CreateTime"] = existing.get("CreateTime", now) if existing else now
        t["UpdateTime"] = now
        t["VersionId"] = str(int(existing.get("VersionId", "0")) + 1) if existing else "0"
        try:
            cat.created[(db, name)] = complete_table(t, db, name, now, "TableInput")
        except CatalogError as e:
            raise ApiError(400, "InvalidInputException", str(e))
    return {}


def list_partitions(cat, t):
    keys = [k["Name"] for k in t.get("PartitionKeys") or []]
    if not keys:
        return []
    root = cat.location_dir(t)
    out = []

    def walk(d, depth, vals):
        if depth == len(keys):
            out.append(vals)
            return
        if not os.path.isdir(d):
            return
        for e in sorted(os.listdir(d)):
            k, eq, v = e.partition("=")
            if eq and k.lower() == keys[depth].lower() and os.path.isdir(os.path.join(d, e)):
                walk(os.path.join(d, e), depth + 1, vals + [urllib.parse.unquote(v)])
    walk(root, 0, [])
    return out


def filter_partitions(t, parts, expr):
    """Partitions whose values satisfy a Glue partition Expression (SQL-like: =, <, >=,
    AND, OR, IN, BETWEEN, LIKE), evaluated by SQLite over the partition values."""
    if not isinstance(expr, str) or len(expr) > 2048 or ";" in expr:
        raise ApiError(400, "InvalidInputException", "Expression must be a string of at most "
                       "2048 characters without ';'")
    keys = [k["Name"] for k in t["PartitionKeys"]]
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute("CREATE TABLE p (%s, weir_i INTEGER)" %
                     ", ".join('"%s" TEXT' % k.replace('"', '""') for k in keys))
        conn.executemany("INSERT INTO p VALUES (%s)" % ", ".join("?" * (len(keys) + 1)),
                         [list(v) + [i] for i, v in enumerate(parts)])
        try:
            keep = {r[0] for r in conn.execute("SELECT weir_i FROM p WHERE %s" % expr)}
        except sqlite3.Error as e:
            raise ApiError(400, "InvalidInputException", "Expression %r cannot be evaluated: "
                           "%s (partition keys: %s)" % (expr[:200], e, ", ".join(keys)))
    finally:
        conn.close()
    return [v for i, v in enumerate(parts) if i in keep]


def partition_obj(t, vals):
    sd = json.loads(json.dumps(t["StorageDescriptor"]))
    loc = sd.get("Location", "")
    sub = "/".join("%s=%s" % (k["Name"], v) for k, v in zip(t["PartitionKeys"], vals))
    sd["Location"] = loc.rstrip("/") + "/" + sub + "/"
    return {"Values": vals, "DatabaseName": t["DatabaseName"], "TableName": t["Name"],
            "CreationTime": t.get("CreateTime", 0), "LastAccessTime": 0, "StorageDescriptor": sd,
            "Parameters": {}, "CatalogId": CATALOG_ID}
