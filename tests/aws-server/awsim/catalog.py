"""weir's local catalog directory (Glue JSON or the short YAML form) and the
table data files under a table's location, loaded into SQLite for Athena."""

import csv
import io
import json
import os
import re
import urllib.parse

from .common import SqlFail

CATALOG_ID = "123456789012"
NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_\-]*$")


def _skip_entry(name):
    return name.startswith(".") or name.startswith("_")


class CatalogError(Exception):
    pass


class Catalog:
    """One folder per database, one file per table (Glue JSON or weir's short YAML)."""

    def __init__(self, root, store):
        self.root = root
        self.store = store
        self.created = {}    # (db, name) -> table from CreateTable/UpdateTable (memory only)

    def databases(self):
        if not self.root or not os.path.isdir(self.root):
            return []
        return sorted(d for d in os.listdir(self.root)
                      if not _skip_entry(d) and NAME_RE.match(d)
                      and os.path.isdir(os.path.join(self.root, d)))

    def has_db(self, db):
        return db in self.databases()

    def table_files(self, db):
        out = {}
        d = os.path.join(self.root, db)
        for f in sorted(os.listdir(d)):
            base, ext = os.path.splitext(f)
            if _skip_entry(f) or ext not in (".json", ".yaml", ".yml") or not NAME_RE.match(base):
                continue
            if not os.path.isfile(os.path.join(d, f)):
                continue
            out.setdefault(base, []).append(os.path.join(d, f))
        return out

    def tables(self, db):
        return sorted(set(self.table_files(db)) | {n for d, n in self.created if d == db})

    def table(self, db, name):
        """The Glue Table object, or None when there is no such table."""
        if (db, name) in self.created:
            return json.loads(json.dumps(self.created[(db, name)]))
        files = self.table_files(db).get(name)
        if not files:
            return None
        if len(files) > 1:
            raise CatalogError("table %s.%s is defined twice: %s" %
                               (db, name, ", ".join(os.path.basename(f) for f in files)))
        path = files[0]
        rel = os.path.relpath(path, self.root)
        if path.endswith(".json"):
            try:
                with open(path, encoding="utf-8") as fh:
                    raw = json.load(fh)
            except ValueError as e:
                raise CatalogError("catalog file %s: invalid JSON: %s" % (rel, e))
            t = raw.get("Table", raw) if isinstance(raw, dict) else None
            if not isinstance(t, dict):
                raise CatalogError("catalog file %s: expected a JSON object {\"Table\": {...}}"
                                   % rel)
            t = json.loads(json.dumps(t))
        else:
            t = yaml_table(path, rel, db)
        return complete_table(t, db, name, os.path.getmtime(path), "catalog file " + rel)

    def location_dir(self, t):
        loc = (t.get("StorageDescriptor") or {}).get("Location") or ""
        for scheme in ("s3://", "s3a://", "s3n://"):
            if loc.startswith(scheme):
                rest = loc[len(scheme):]
                if not rest or rest.startswith("/"):
                    raise CatalogError("location %r has no bucket" % loc)
                return os.path.join(self.store, rest)
        if loc.startswith("file://"):
            return loc[7:]
        if "://" in loc or not loc:
            raise CatalogError("location %r cannot be read here; use s3://bucket/prefix" % loc)
        return os.path.join(os.path.dirname(os.path.abspath(self.root)), loc)


def _truth(s, what, rel):
    v = str(s).lower()
    if v in ("true", "yes", "on", "1"):
        return True
    if v in ("false", "no", "off", "0"):
        return False
    raise CatalogError("catalog file %s: %s must be true or false" % (rel, what))


def yaml_table(path, rel, db):
    """weir's short YAML table form rewritten in the Glue shape, as plugins/lake/table_yaml.c."""
    try:
        import yaml
    except ImportError:
        raise CatalogError("catalog file %s: reading YAML tables needs python3-yaml" % rel)
    try:
        with open(path, encoding="utf-8") as fh:
            y = yaml.load(fh, Loader=yaml.BaseLoader)
    except yaml.YAMLError as e:
        raise CatalogError("catalog file %s: invalid YAML: %s" % (rel, e))
    if not isinstance(y, dict):
        raise CatalogError("catalog file %s: a table definition is a YAML mapping" % rel)
    known = ("name", "database", "description", "location", "format", "delimiter", "header",
             "null_tokens", "columns", "partitions", "parameters")
    for k in y:
        if k not in known:
            raise CatalogError("catalog file %s: unknown key '%s'; a table has %s" %
                               (rel, k, ", ".join(known)))
    fmt = y.get("format")
    if fmt not in (None, "csv", "jsonl", "json"):
        raise CatalogError("catalog file %s: format must be csv or jsonl" % rel)
    jsonl = bool(fmt) and fmt.startswith("j")
    if "columns" not in y:
        raise CatalogError("catalog file %s: columns: is required" % rel)

    def cols(key, default_type):
        v = y.get(key)
        out = []
        items = [{k: x} for k, x in v.items()] if isinstance(v, dict) else (v or [])
        if not isinstance(items, list):
            raise CatalogError("catalog file %s: %s must be a list or a mapping" % (rel, key))
        for it in items:
            name, typ, comment = None, default_type, None
            if isinstance(it, str):
                name = it
            elif isinstance(it, dict) and "name" in it:
                name, typ, comment = it.get("name"), it.get("type", default_type), it.get("comment")
            elif isinstance(it, dict) and len(it) == 1:
                name, x = next(iter(it.items()))
                typ = x.get("type") if isinstance(x, dict) else x
                comment = x.get("comment") if isinstance(x, dict) else None
            if not name or not typ:
                raise CatalogError("catalog file %s: every entry of %s needs a name and a type"
                                   % (rel, key))
            c = {"Name": name, "Type": typ}
            if comment:
                c["Comment"] = comment
            out.append(c)
        return out

    params = {"classification": "json" if jsonl else "csv"}
    serde = {}
    if not jsonl:
        header = _truth(y["header"], "header", rel) if "header" in y else True
        params["skip.header.line.count"] = "1" if header else "0"
    nulls = y.get("null_tokens")
    if isinstance(nulls, str):
        serde["serialization.null.format"] = nulls
    elif isinstance(nulls, list):
        params["weir.null.tokens"] = json.dumps(nulls, separators=(",", ":"))
    extra = y.get("parameters") or {}
    if not isinstance(extra, dict):
        raise CatalogError("catalog file %s: parameters must be a mapping of strings" % rel)
    params.update(extra)
    if y.get("delimiter"):
        serde["field.delim"] = y["delimiter"]
    t = {"DatabaseName": y.get("database") or db, "TableType": "EXTERNAL_TABLE",
         "Parameters": params,
         "StorageDescriptor": {"Columns": cols("columns", None),
                               "SerdeInfo": {"SerializationLibrary":
                                             "org.openx.data.jsonserde.JsonSerDe" if jsonl else
                                             "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
                                             "Parameters": serde}},
         "PartitionKeys": cols("partitions", "string")}
    if y.get("name"):
        t["Name"] = y["name"]
    if y.get("description"):
        t["Description"] = y["description"]
    if y.get("location"):
        t["StorageDescriptor"]["Location"] = y["location"]
    return t


def table_format(t):
    params = t.get("Parameters") or {}
    sd = t.get("StorageDescriptor") or {}
    lib = ((sd.get("SerdeInfo") or {}).get("SerializationLibrary") or "").lower()
    cls = (params.get("classification") or "").lower()
    if cls in ("json", "jsonl") or "json" in lib:
        return "json"
    if cls == "parquet" or "parquet" in lib:
        return "parquet"
    return "csv"


def complete_table(t, db, name, mtime, rel):
    """Fill in what Glue always returns and the file may leave out."""
    if not isinstance(t.get("StorageDescriptor", {}), dict):
        raise CatalogError("%s: StorageDescriptor must be an object" % rel)
    t.setdefault("Name", name)
    t.setdefault("DatabaseName", db)
    t.setdefault("Owner", "hadoop")
    t.setdefault("CreateTime", int(mtime))
    t.setdefault("UpdateTime", int(mtime))
    t.setdefault("LastAccessTime", 0)
    t.setdefault("Retention", 0)
    t.setdefault("TableType", "EXTERNAL_TABLE")
    t.setdefault("PartitionKeys", [])
    params = t.setdefault("Parameters", {})
    params.setdefault("EXTERNAL", "TRUE")
    fmt = table_format(t)
    params.setdefault("classification", fmt)
    sd = t.setdefault("StorageDescriptor", {})
    sd.setdefault("Columns", [])
    for c in sd["Columns"] + t["PartitionKeys"]:
        if not isinstance(c, dict) or not c.get("Name") or not c.get("Type"):
            raise CatalogError("%s: every column needs Name and Type" % rel)
    if fmt == "parquet":
        inf, outf = ("org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
                     "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat")
        lib, sp = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe", {
            "serialization.format": "1"}
    else:
        inf, outf = ("org.apache.hadoop.mapred.TextInputFormat",
                     "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat")
        if fmt == "json":
            lib, sp = "org.openx.data.jsonserde.JsonSerDe", {}
        else:
            lib, sp = "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe", {
                "field.delim": ",", "serialization.format": ","}
    sd.setdefault("InputFormat", inf)
    sd.setdefault("OutputFormat", outf)
    serde = sd.setdefault("SerdeInfo", {})
    serde.setdefault("SerializationLibrary", lib)
    sp.update(serde.get("Parameters") or {})
    serde["Parameters"] = sp
    sd.setdefault("Location", "")
    sd.setdefault("Compressed", False)
    sd.setdefault("NumberOfBuckets", -1)
    sd.setdefault("BucketColumns", [])
    sd.setdefault("SortColumns", [])
    sd.setdefault("Parameters", {})
    sd.setdefault("StoredAsSubDirectories", False)
    t.setdefault("CreatedBy", "arn:aws:iam::%s:user/weir-test" % CATALOG_ID)
    t.setdefault("IsRegisteredWithLakeFormation", False)
    t.setdefault("CatalogId", CATALOG_ID)
    t.setdefault("VersionId", "0")
    return t


DEFAULT_NULLS = {"", "NA", "NULL", "null", "\\N"}


def hive_base(typ):
    return re.split(r"[(<]", typ.strip().lower(), maxsplit=1)[0]


def sqlite_affinity(typ):
    b = hive_base(typ)
    if b in ("bigint", "int", "integer", "smallint", "tinyint", "boolean"):
        return "INTEGER"
    if b in ("double", "float", "real", "decimal"):
        return "REAL"
    return "TEXT"


def convert_value(v, typ):
    """A file value as the SQLite value of Hive type typ (None when it does not parse)."""
    if v is None:
        return None
    b = hive_base(typ)
    if isinstance(v, (dict, list)):
        return json.dumps(v, separators=(",", ":"))
    try:
        if b in ("bigint", "int", "integer", "smallint", "tinyint"):
            if isinstance(v, bool):
                return None
            if isinstance(v, float):
                return int(v) if v.is_integer() else None
            return int(str(v).strip())
        if b in ("double", "float", "real", "decimal"):
            if isinstance(v, bool):
                return None
            return float(v)
        if b == "boolean":
            if isinstance(v, bool):
                return int(v)
            s = str(v).strip().lower()
            return 1 if s == "true" else 0 if s == "false" else None
    except ValueError:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def table_files(root):
    """[(path, {partkey_lower: value})] of the data files under root, sorted."""
    out = []
    if not os.path.isdir(root):
        return out
    for d, dirs, files in os.walk(root):
        dirs[:] = sorted(x for x in dirs if not _skip_entry(x))
        rel = os.path.relpath(d, root)
        parts = {}
        if rel != ".":
            for seg in rel.split(os.sep):
                k, eq, v = seg.partition("=")
                if eq:
                    parts[k.lower()] = urllib.parse.unquote(v)
        for f in sorted(files):
            if not _skip_entry(f) and not f.endswith(".metadata") and not f.endswith(".crc"):
                out.append((os.path.join(d, f), parts))
    return out


def load_table(conn, cat, t):
    """Creates "db"."name" in conn from the table's files; returns bytes read."""
    sd = t["StorageDescriptor"]
    cols = [(c["Name"], c["Type"]) for c in sd["Columns"]]
    pcols = [(c["Name"], c["Type"]) for c in t.get("PartitionKeys") or []]
    allc = cols + pcols
    fmt = table_format(t)
    if fmt == "parquet":
        raise SqlFail("NOT_SUPPORTED: table %s.%s is Parquet; this test server reads CSV and "
                      "JSON Lines" % (t["DatabaseName"], t["Name"]))
    params = t.get("Parameters") or {}
    sp = (sd.get("SerdeInfo") or {}).get("Parameters") or {}
    delim = sp.get("field.delim") or sp.get("separatorChar") or ","
    skip = int(params.get("skip.header.line.count") or sp.get("skip.header.line.count") or 0)
    nulls = set(DEFAULT_NULLS)
    if params.get("weir.null.tokens"):
        nulls = set(json.loads(params["weir.null.tokens"]))
    elif "serialization.null.format" in sp:
        nulls = {sp["serialization.null.format"]}
    q = '"%s"."%s"' % (t["DatabaseName"], t["Name"])
    conn.execute("CREATE TABLE %s (%s)" % (q, ", ".join(
        '"%s" %s' % (n.replace('"', '""'), sqlite_affinity(ty)) for n, ty in allc)))
    root = cat.location_dir(t)
    scanned = 0
    rows = []
    for path, parts in table_files(root):
        with open(path, "rb") as fh:
            data = fh.read()
        scanned += len(data)
        text = data.decode("utf-8", errors="replace")
        pvals = [convert_value(None if parts.get(n.lower()) in (None, "__HIVE_DEFAULT_PARTITION__")
                               else parts.get(n.lower()), ty) for n, ty in pcols]
        if fmt == "json":
            for ln, line in enumerate(text.splitlines(), 1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except ValueError as e:
                    raise SqlFail("HIVE_CURSOR_ERROR: Row is not a valid JSON Object - %s: line "
                                  "%d: %s" % (os.path.relpath(path, cat.store), ln, e))
                if not isinstance(obj, dict):
                    raise SqlFail("HIVE_CURSOR_ERROR: Row is not a valid JSON Object - %s: line "
                                  "%d" % (os.path.relpath(path, cat.store), ln))
                low = {k.lower(): v for k, v in obj.items()}
                rows.append([convert_value(low.get(n.lower()), ty) for n, ty in cols] + pvals)
        else:
            reader = csv.reader(io.StringIO(text), delimiter=delim[0])
            for i, rec in enumerate(reader):
                if i < skip or not rec:
                    continue
                vals = []
                for j, (n, ty) in enumerate(cols):
                    v = rec[j] if j < len(rec) else None
                    vals.append(None if v is None or v in nulls else convert_value(v, ty))
                rows.append(vals + pvals)
    if rows:
        conn.executemany("INSERT INTO %s VALUES (%s)" % (q, ", ".join("?" * len(allc))), rows)
    return scanned
