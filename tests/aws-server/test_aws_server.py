#!/usr/bin/env python3
"""Self-test of aws_server.py with real botocore clients (ctest: aws-server/selftest).

Starts the server as a subprocess on a fixture catalog and lake written here
(plus one run over examples/), and checks that botocore parses every answer,
that paging, the Athena state machine and the SQL translation give the values
computed independently here, that bad signatures get 403, and that every fault
mode behaves as documented.
"""

import csv
import datetime
import hashlib
import http.client
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse

import botocore.session
from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.path.join(HERE, "aws_server.py")
SOURCE_DIR = os.environ.get("WEIR_SOURCE_DIR") or os.path.dirname(os.path.dirname(HERE))
AKID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
REGION = "us-east-1"
BEDROCK_TOKEN = "bedrock-test-token-7f3a"
API_KEY = "llm-test-key-91c2"

ORDERS = {
    "2026-10-01": [
        ["1", "alice", "10.5", "3.10", "true", "2026-10-01 10:00:00", "2026-10-01"],
        ["2", "bob", "20", "4.00", "false", "2026-10-01 11:00:00", "2026-10-01"],
        ["3", "", "NA", "1.50", "true", "2026-10-01 12:00:00", "2026-10-01"],
    ],
    "2026-10-02": [
        ["4", "alice", "5.25", "2.00", "true", "2026-10-02 09:30:00", "2026-10-02"],
        ["5", "carol", "12345678.5", "9.99", "false", "2026-10-02 18:45:00", "2026-10-02"],
        ["6", "dave", "7", "0.50", "true", "2026-10-02 19:00:00", "2026-10-02"],
    ],
}
ORDERS_HEADER = ["id", "customer", "amount", "price", "paid", "ts", "d"]
EVENTS = [
    {"user": "u1", "n": 1, "tags": ["a", "b"], "ok": True},
    {"user": "u2", "n": 5, "tags": [], "ok": False},
    {"user": "u1", "n": None, "tags": ["c"], "ok": True},
]

ORDERS_JSON = {
    "Table": {
        "Name": "orders",
        "DatabaseName": "sales",
        "Description": "fixture orders",
        "TableType": "EXTERNAL_TABLE",
        "Parameters": {"classification": "csv", "skip.header.line.count": "1"},
        "StorageDescriptor": {
            "Columns": [
                {"Name": "id", "Type": "bigint"},
                {"Name": "customer", "Type": "string", "Comment": "who"},
                {"Name": "amount", "Type": "double"},
                {"Name": "price", "Type": "decimal(10,2)"},
                {"Name": "paid", "Type": "boolean"},
                {"Name": "ts", "Type": "timestamp"},
                {"Name": "d", "Type": "date"},
            ],
            "Location": "s3://fixture-lake/sales/orders/",
            "SerdeInfo": {
                "SerializationLibrary": "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
                "Parameters": {"field.delim": ","},
            },
        },
        "PartitionKeys": [{"Name": "dt", "Type": "string"}],
    }
}

EVENTS_YAML = """\
description: fixture events, JSON Lines
location: s3://fixture-lake/sales/events/
format: jsonl
columns:
  - {name: user, type: string, comment: the user}
  - {name: n, type: int}
  - {name: tags, type: array<string>}
  - {name: ok, type: boolean}
partitions: [dt]
parameters: {owner: tests}
"""


def write_fixture(root):
    cat = os.path.join(root, "catalog")
    lake = os.path.join(root, "lake")
    for d in ("hr", "ops", "sales"):
        os.makedirs(os.path.join(cat, d))
    with open(os.path.join(cat, "sales", "orders.json"), "w") as fh:
        json.dump(ORDERS_JSON, fh)
    with open(os.path.join(cat, "sales", "events.yaml"), "w") as fh:
        fh.write(EVENTS_YAML)
    with open(os.path.join(cat, "sales", "_skipped.json"), "w") as fh:
        fh.write("{}")
    for name in ("t1", "t2", "t3"):
        t = json.loads(json.dumps(ORDERS_JSON))
        t["Table"]["Name"] = name
        t["Table"]["PartitionKeys"] = []
        t["Table"]["StorageDescriptor"]["Location"] = "s3://fixture-lake/ops/%s/" % name
        with open(os.path.join(cat, "ops", name + ".json"), "w") as fh:
            json.dump(t, fh)
    for dt, rows in ORDERS.items():
        d = os.path.join(lake, "fixture-lake", "sales", "orders", "dt=" + dt)
        os.makedirs(d)
        with open(os.path.join(d, "part-000.csv"), "w", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(ORDERS_HEADER)
            w.writerows(rows)
    d = os.path.join(lake, "fixture-lake", "sales", "events", "dt=2026-10-01")
    os.makedirs(d)
    with open(os.path.join(d, "part-000.json"), "w") as fh:
        for e in EVENTS:
            fh.write(json.dumps(e) + "\n")
    os.makedirs(os.path.join(lake, "testbucket"))
    return cat, lake


class Server:
    def __init__(self, *args):
        self.proc = subprocess.Popen([sys.executable, SERVER] + list(args),
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = [None]
        t = threading.Thread(target=lambda: line.__setitem__(0, self.proc.stdout.readline()))
        t.start()
        t.join(30)
        if not line[0] or not line[0].startswith("PORT="):
            self.proc.kill()
            raise RuntimeError("aws_server did not print PORT=<n>: %r, stderr: %s" %
                               (line[0], self.proc.stderr.read()[:2000]))
        self.port = int(line[0].strip().split("=", 1)[1])
        self.url = "http://127.0.0.1:%d" % self.port
        # drain stderr so a chatty server never blocks
        self.err = []
        threading.Thread(target=lambda: self.err.extend(self.proc.stderr), daemon=True).start()

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)

    def admin(self, method, what, body=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        c.request(method, "/__weir/" + what, body=json.dumps(body) if body is not None else None)
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, json.loads(data) if data else None

    def log(self):
        return self.admin("GET", "log")[1]["requests"]

    def client(self, service, secret=SECRET, akid=AKID, attempts=1, token=None):
        s = botocore.session.get_session()
        return s.create_client(service, endpoint_url=self.url, region_name=REGION,
                               aws_access_key_id=akid, aws_secret_access_key=secret,
                               aws_session_token=token,
                               config=Config(retries={"total_max_attempts": attempts,
                                                      "mode": "standard"},
                                             read_timeout=20, connect_timeout=5))

    def raw(self, method, path, body=b"", headers=None, timeout=20):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), data

    def signed(self, method, path, service, body=b"", headers=None, secret=SECRET,
               tamper=None, s3=False, host=None, token=None):
        """Sign with botocore, optionally tamper(headers, body) after signing, send."""
        hdrs = dict(headers or {})
        hdrs["Host"] = host or "127.0.0.1:%d" % self.port
        req = AWSRequest(method=method, url="http://%s%s" % (hdrs["Host"], path), data=body,
                         headers=hdrs)
        creds = Credentials(AKID, secret, token)
        (S3SigV4Auth if s3 else SigV4Auth)(creds, service, REGION).add_auth(req)
        out = dict(req.headers.items())
        if tamper:
            out, body = tamper(out, body)
        return self.raw(method, path, body, out)


def code_of(exc):
    return exc.response["Error"]["Code"]


def tearDownModule():
    for s in _servers:
        s.stop()
    shutil.rmtree(_tmp, ignore_errors=True)


_servers = []
_tmp = tempfile.mkdtemp(prefix="weir-aws-selftest-")


def setUpModule():
    global SRV, CAT, LAKE, S3ROOT
    CAT, LAKE = write_fixture(_tmp)
    S3ROOT = os.path.join(_tmp, "s3")
    SRV = Server("--catalog", CAT, "--data", LAKE, "--s3-root", S3ROOT,
                 "--bedrock-token", BEDROCK_TOKEN, "--api-key", API_KEY,
                 "--s3-min-part-size", "5", "--log", os.path.join(_tmp, "requests.jsonl"))
    _servers.append(SRV)


class Base(unittest.TestCase):
    def setUp(self):
        SRV.admin("POST", "reset")


# ---------------------------------------------------------------------------
class GlueTest(Base):
    def test_get_databases_pages_of_two(self):
        glue = SRV.client("glue")
        first = glue.get_databases()
        self.assertEqual([d["Name"] for d in first["DatabaseList"]], ["hr", "ops"])
        self.assertIn("NextToken", first)
        names = [d["Name"] for p in glue.get_paginator("get_databases").paginate()
                 for d in p["DatabaseList"]]
        self.assertEqual(names, ["hr", "ops", "sales"])
        self.assertIsInstance(first["DatabaseList"][0]["CreateTime"], datetime.datetime)

    def test_get_tables_paging_with_one_empty_page(self):
        glue = SRV.client("glue")
        pages = list(glue.get_paginator("get_tables").paginate(
            DatabaseName="ops", PaginationConfig={"PageSize": 1}))
        self.assertEqual([[t["Name"] for t in p["TableList"]] for p in pages],
                         [["t1"], [], ["t2"], ["t3"]])
        self.assertIn("NextToken", pages[1])
        self.assertNotIn("NextToken", pages[-1])
        self.assertEqual([t["Name"] for t in glue.get_tables(DatabaseName="sales",
                                                              MaxResults=100)["TableList"]],
                         ["events", "orders"])
        self.assertEqual([t["Name"] for t in glue.get_tables(DatabaseName="ops", Expression="t[23]",
                                                              MaxResults=10)["TableList"]],
                         ["t2", "t3"])

    def test_get_table_json_shape(self):
        t = SRV.client("glue").get_table(DatabaseName="sales", Name="orders")["Table"]
        sd = t["StorageDescriptor"]
        self.assertEqual(t["Name"], "orders")
        self.assertEqual(t["DatabaseName"], "sales")
        self.assertEqual(t["TableType"], "EXTERNAL_TABLE")
        self.assertEqual([(c["Name"], c["Type"]) for c in sd["Columns"]][:4],
                         [("id", "bigint"), ("customer", "string"), ("amount", "double"),
                          ("price", "decimal(10,2)")])
        self.assertEqual(sd["Columns"][1]["Comment"], "who")
        self.assertEqual(t["PartitionKeys"], [{"Name": "dt", "Type": "string"}])
        self.assertEqual(sd["Location"], "s3://fixture-lake/sales/orders/")
        self.assertEqual(sd["InputFormat"], "org.apache.hadoop.mapred.TextInputFormat")
        self.assertEqual(sd["SerdeInfo"]["Parameters"]["field.delim"], ",")
        self.assertEqual(t["Parameters"]["classification"], "csv")
        self.assertEqual(t["Parameters"]["skip.header.line.count"], "1")
        self.assertIsInstance(t["CreateTime"], datetime.datetime)

    def test_get_table_yaml_short_form(self):
        t = SRV.client("glue").get_table(DatabaseName="sales", Name="events")["Table"]
        sd = t["StorageDescriptor"]
        self.assertEqual([(c["Name"], c["Type"]) for c in sd["Columns"]],
                         [("user", "string"), ("n", "int"), ("tags", "array<string>"),
                          ("ok", "boolean")])
        self.assertEqual(sd["SerdeInfo"]["SerializationLibrary"],
                         "org.openx.data.jsonserde.JsonSerDe")
        self.assertEqual(t["Parameters"]["classification"], "json")
        self.assertEqual(t["Parameters"]["owner"], "tests")
        self.assertEqual(t["Description"], "fixture events, JSON Lines")
        self.assertEqual(t["PartitionKeys"], [{"Name": "dt", "Type": "string"}])

    def test_get_partitions(self):
        parts = SRV.client("glue").get_partitions(DatabaseName="sales", TableName="orders")
        self.assertEqual([p["Values"] for p in parts["Partitions"]],
                         [["2026-10-01"], ["2026-10-02"]])
        self.assertEqual(parts["Partitions"][1]["StorageDescriptor"]["Location"],
                         "s3://fixture-lake/sales/orders/dt=2026-10-02/")
        glue = SRV.client("glue")
        later = glue.get_partitions(DatabaseName="sales", TableName="orders",
                                    Expression="dt >= '2026-10-02'")
        self.assertEqual([p["Values"] for p in later["Partitions"]], [["2026-10-02"]])
        with self.assertRaises(ClientError) as cm:
            glue.get_partitions(DatabaseName="sales", TableName="orders", Expression="nope > 1")
        self.assertEqual(code_of(cm.exception), "InvalidInputException")
        self.assertIn("partition keys: dt", cm.exception.response["Error"]["Message"])

    def test_create_and_update_table_in_memory(self):
        glue = SRV.client("glue")
        ti = json.loads(json.dumps(ORDERS_JSON["Table"]))
        for k in ("DatabaseName",):
            del ti[k]
        ti["Name"] = "orders_copy"
        glue.create_table(DatabaseName="sales", TableInput=ti)
        t = glue.get_table(DatabaseName="sales", Name="orders_copy")["Table"]
        self.assertEqual((t["VersionId"], t["DatabaseName"]), ("0", "sales"))
        self.assertIn("orders_copy", [x["Name"] for x in glue.get_tables(
            DatabaseName="sales", MaxResults=10)["TableList"]])
        with self.assertRaises(ClientError) as cm:
            glue.create_table(DatabaseName="sales", TableInput=ti)
        self.assertEqual(code_of(cm.exception), "AlreadyExistsException")
        with self.assertRaises(ClientError) as cm:
            glue.create_table(DatabaseName="nodb", TableInput=ti)
        self.assertEqual(code_of(cm.exception), "EntityNotFoundException")
        ti["Description"] = "v2"
        glue.update_table(DatabaseName="sales", TableInput=ti, VersionId="0")
        t = glue.get_table(DatabaseName="sales", Name="orders_copy")["Table"]
        self.assertEqual((t["Description"], t["VersionId"]), ("v2", "1"))
        with self.assertRaises(ClientError) as cm:
            glue.update_table(DatabaseName="sales", TableInput=ti, VersionId="0")
        self.assertEqual(code_of(cm.exception), "ConcurrentModificationException")
        # the created table is queryable, and nothing was written to the catalog folder
        _, ex, _ = run_query(SRV.client("athena"), "SELECT count(*) FROM orders_copy")
        self.assertEqual(ex["Status"]["State"], "SUCCEEDED")
        self.assertFalse(os.path.exists(os.path.join(CAT, "sales", "orders_copy.json")))
        SRV.admin("POST", "reset")
        with self.assertRaises(ClientError) as cm:
            glue.get_table(DatabaseName="sales", Name="orders_copy")
        self.assertEqual(code_of(cm.exception), "EntityNotFoundException")

    def test_not_found_and_bad_input(self):
        glue = SRV.client("glue")
        with self.assertRaises(ClientError) as cm:
            glue.get_table(DatabaseName="sales", Name="nope")
        self.assertEqual(code_of(cm.exception), "EntityNotFoundException")
        self.assertIn("nope", cm.exception.response["Error"]["Message"])
        with self.assertRaises(ClientError) as cm:
            glue.get_tables(DatabaseName="nodb")
        self.assertEqual(code_of(cm.exception), "EntityNotFoundException")
        with self.assertRaises(ClientError) as cm:
            glue.get_tables(DatabaseName="ops", NextToken="garbage")
        self.assertEqual(code_of(cm.exception), "InvalidInputException")


# ---------------------------------------------------------------------------
def run_query(athena, sql, db="sales", **kw):
    qid = athena.start_query_execution(QueryString=sql, QueryExecutionContext={"Database": db},
                                       ResultConfiguration={"OutputLocation":
                                                            "s3://testbucket/results/"},
                                       **kw)["QueryExecutionId"]
    states = []
    for _ in range(20):
        ex = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
        states.append(ex["Status"]["State"])
        if states[-1] in ("SUCCEEDED", "FAILED", "CANCELLED"):
            return qid, ex, states
    raise AssertionError("query never finished: %s" % states)


def all_rows(athena, qid, page=1000):
    rows, tok, pages = [], None, 0
    while True:
        kw = {"NextToken": tok} if tok else {}
        r = athena.get_query_results(QueryExecutionId=qid, MaxResults=page, **kw)
        pages += 1
        rows.extend([d.get("VarCharValue") for d in row["Data"]] for row in r["ResultSet"]["Rows"])
        tok = r.get("NextToken")
        if not tok:
            return rows, r["ResultSet"]["ResultSetMetadata"]["ColumnInfo"], pages


def orders_rows():
    return [r + [dt] for dt, rows in ORDERS.items() for r in rows]


class AthenaTest(Base):
    def test_state_machine_and_results_before_success(self):
        athena = SRV.client("athena")
        qid = athena.start_query_execution(QueryString="SELECT count(*) AS n FROM orders",
                                           QueryExecutionContext={"Database": "sales"}
                                           )["QueryExecutionId"]
        with self.assertRaises(ClientError) as cm:
            athena.get_query_results(QueryExecutionId=qid)
        self.assertEqual(code_of(cm.exception), "InvalidRequestException")
        states = [athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"][
            "State"] for _ in range(4)]
        self.assertEqual(states, ["QUEUED", "RUNNING", "SUCCEEDED", "SUCCEEDED"])
        ex = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
        size = sum(os.path.getsize(os.path.join(S3ROOT, "fixture-lake", "sales", "orders",
                                                "dt=" + dt, "part-000.csv")) for dt in ORDERS)
        self.assertEqual(ex["Statistics"]["DataScannedInBytes"], size)
        self.assertGreaterEqual(ex["Statistics"]["EngineExecutionTimeInMillis"], 1)
        self.assertEqual(ex["StatementType"], "DML")
        rows, cols, _ = all_rows(athena, qid)
        self.assertEqual(rows, [["n"], [str(len(orders_rows()))]])
        self.assertEqual(cols[0]["Type"], "bigint")

    def test_polls_override_and_config(self):
        athena = SRV.client("athena")
        _, _, states = run_query(athena, "SELECT 1 AS x /* weir:polls=4 */")
        self.assertEqual(states, ["QUEUED", "RUNNING", "RUNNING", "RUNNING", "SUCCEEDED"])
        self.assertEqual(SRV.admin("POST", "config", {"athena_polls": 0})[0], 200)
        _, _, states = run_query(athena, "SELECT 1 AS x")
        self.assertEqual(states, ["SUCCEEDED"])
        self.assertEqual(SRV.admin("POST", "config", {"athena_polls": -1})[0], 400)

    def test_result_paging_header_only_on_first_page_and_nulls(self):
        athena = SRV.client("athena")
        qid, ex, _ = run_query(athena, 'SELECT "id", customer, amount FROM "sales"."orders" '
                               "ORDER BY id")
        self.assertEqual(ex["Status"]["State"], "SUCCEEDED")
        r1 = athena.get_query_results(QueryExecutionId=qid, MaxResults=3)
        self.assertEqual([d.get("VarCharValue") for d in r1["ResultSet"]["Rows"][0]["Data"]],
                         ["id", "customer", "amount"])
        self.assertEqual(len(r1["ResultSet"]["Rows"]), 3)
        r2 = athena.get_query_results(QueryExecutionId=qid, MaxResults=3,
                                      NextToken=r1["NextToken"])
        self.assertEqual(r2["ResultSet"]["Rows"][0]["Data"][0]["VarCharValue"], "3")
        # id 3 has customer "" (a NULL token) and amount NA: Datums without VarCharValue
        self.assertEqual(r2["ResultSet"]["Rows"][0]["Data"][1:], [{}, {}])
        rows, cols, pages = all_rows(athena, qid, page=2)
        self.assertEqual(pages, 4)
        self.assertEqual([r[0] for r in rows], ["id", "1", "2", "3", "4", "5", "6"])
        self.assertEqual(rows[5][2], "1.23456785E7")   # Trino prints large doubles this way
        self.assertEqual(rows[1][2], "10.5")
        self.assertEqual(rows[2][2], "20.0")
        self.assertEqual([c["Type"] for c in cols], ["bigint", "varchar", "double"])
        with self.assertRaises(ClientError) as cm:
            athena.get_query_results(QueryExecutionId=qid, NextToken="bogus")
        self.assertEqual(code_of(cm.exception), "InvalidRequestException")
        qid, _, _ = run_query(athena, "SELECT NULL AS a, '' AS b")
        r = athena.get_query_results(QueryExecutionId=qid)
        self.assertEqual(r["ResultSet"]["Rows"][1]["Data"], [{}, {"VarCharValue": ""}])

    def test_types_partitions_and_declared_columns(self):
        athena = SRV.client("athena")
        qid, _, _ = run_query(athena, "SELECT id, price, paid, ts, d, dt FROM orders "
                              "WHERE dt = '2026-10-02' AND paid ORDER BY id")
        rows, cols, _ = all_rows(athena, qid)
        self.assertEqual([c["Type"] for c in cols],
                         ["bigint", "decimal", "boolean", "timestamp", "date", "varchar"])
        self.assertEqual((cols[1]["Precision"], cols[1]["Scale"]), (10, 2))
        self.assertEqual(rows[1:], [["4", "2.00", "true", "2026-10-02 09:30:00", "2026-10-02",
                                     "2026-10-02"],
                                    ["6", "0.50", "true", "2026-10-02 19:00:00", "2026-10-02",
                                     "2026-10-02"]])

    def test_casts_and_stated_types(self):
        athena = SRV.client("athena")
        qid, ex, _ = run_query(athena, "SELECT CAST(ts AS date) AS day, CAST(amount AS bigint) "
                               "AS whole, CAST(amount AS decimal(10,1)) AS one, "
                               "try_cast(customer AS integer) AS bad, "
                               "regexp_like(customer, '^a') AS is_a, CAST(id AS varchar) AS sid "
                               "FROM orders WHERE id = 5")
        self.assertEqual(ex["Status"]["State"], "SUCCEEDED", ex["Status"].get("StateChangeReason"))
        rows, cols, _ = all_rows(athena, qid)
        self.assertEqual([c["Type"] for c in cols],
                         ["date", "bigint", "decimal", "integer", "boolean", "varchar"])
        # Trino rounds half away from zero when casting a double to an integer or decimal
        self.assertEqual(rows[1], ["2026-10-02", "12345679", "12345678.5", None, "false", "5"])
        _, ex, _ = run_query(athena, "SELECT CAST(customer AS bigint) FROM orders")
        self.assertEqual(ex["Status"]["State"], "FAILED")
        self.assertEqual(ex["Status"]["StateChangeReason"],
                         "INVALID_CAST_ARGUMENT: Cannot cast 'alice' to BIGINT")

    def test_trino_translation(self):
        athena = SRV.client("athena")
        amounts = sorted(float(r[2]) for r in orders_rows() if r[2] != "NA")
        sql = ("SELECT count(*) AS n, count_if(paid) AS n_paid, "
               "approx_distinct(customer) AS ndv, "
               "approx_percentile(amount, 0.5) AS p50, "
               "json_format(CAST(approx_percentile(CAST(amount AS double), ARRAY[0.0, 1.0]) "
               "AS JSON)) AS ends, "
               "stddev_samp(amount) AS sd, "
               "CAST(max(id) AS varchar) AS max_id, "
               "count_if(d >= date '2026-10-02') AS late, "
               "json_format(CAST(approx_most_frequent(1, customer, 100) AS JSON)) AS top1, "
               "histogram(paid) AS hist "
               "FROM awsdatacatalog.sales.orders TABLESAMPLE BERNOULLI (50)")
        qid, ex, _ = run_query(athena, sql)
        self.assertEqual(ex["Status"]["State"], "SUCCEEDED",
                         ex["Status"].get("StateChangeReason"))
        rows, cols, _ = all_rows(athena, qid)
        got = dict(zip(rows[0], rows[1]))
        self.assertEqual(got["n"], "6")
        self.assertEqual(got["n_paid"], str(sum(r[4] == "true" for r in orders_rows())))
        self.assertEqual(got["ndv"], "4")   # alice bob carol dave; "" is NULL
        n = len(amounts)
        self.assertEqual(float(got["p50"]), amounts[math.ceil(0.5 * n) - 1])
        self.assertEqual(json.loads(got["ends"]), [amounts[0], amounts[-1]])
        self.assertAlmostEqual(float(got["sd"]), statistics.stdev(amounts), places=6)
        self.assertEqual(got["max_id"], "6")
        self.assertEqual(got["late"], "3")
        self.assertEqual(json.loads(got["top1"]), {"alice": 2})
        self.assertEqual(json.loads(got["hist"]), {"0": 2, "1": 4})

    def test_reserved_word_aliases_and_literals(self):
        athena = SRV.client("athena")
        qid, ex, _ = run_query(athena, "SELECT count(*) AS nothing, 'it''s' AS action, "
                               "CAST(1 AS bigint) + 1 AS two FROM orders WHERE customer IS "
                               "DISTINCT FROM 'bob'")
        self.assertEqual(ex["Status"]["State"], "SUCCEEDED", ex["Status"].get("StateChangeReason"))
        rows, _, _ = all_rows(athena, qid)
        # 6 orders, one by bob; the NULL customer is distinct from 'bob'
        self.assertEqual(rows, [["nothing", "action", "two"], ["5", "it's", "2"]])

    def test_json_lines_table_with_partition(self):
        athena = SRV.client("athena")
        qid, ex, _ = run_query(athena, "SELECT user, n, cardinality(tags) AS k, ok, dt "
                               "FROM events ORDER BY user, n")
        rows, cols, _ = all_rows(athena, qid)
        self.assertEqual(rows[1:], [["u1", None, "1", "true", "2026-10-01"],
                                    ["u1", "1", "2", "true", "2026-10-01"],
                                    ["u2", "5", "0", "false", "2026-10-01"]])
        self.assertEqual([c["Type"] for c in cols],
                         ["varchar", "integer", "bigint", "boolean", "varchar"])

    def test_failed_query(self):
        athena = SRV.client("athena")
        _, ex, states = run_query(athena, "SELECT nosuchcol FROM orders")
        self.assertEqual(states[-1], "FAILED")
        st = ex["Status"]
        self.assertTrue(st["StateChangeReason"].startswith("COLUMN_NOT_FOUND"),
                        st["StateChangeReason"])
        self.assertEqual(st["AthenaError"]["ErrorCategory"], 2)
        with self.assertRaises(ClientError) as cm:
            athena.get_query_results(QueryExecutionId=ex["QueryExecutionId"])
        self.assertEqual(code_of(cm.exception), "InvalidRequestException")
        _, ex, _ = run_query(athena, "SELECT * FROM missing_table")
        self.assertTrue(ex["Status"]["StateChangeReason"].startswith("TABLE_NOT_FOUND"))
        _, ex, _ = run_query(athena, "SELEC 1")
        self.assertEqual(ex["Status"]["State"], "FAILED")
        _, ex, _ = run_query(athena, "SELECT 1", db="nodb")
        self.assertTrue(ex["Status"]["StateChangeReason"].startswith("SCHEMA_NOT_FOUND"))

    def test_stop_and_idempotency(self):
        athena = SRV.client("athena")
        qid = athena.start_query_execution(QueryString="SELECT 1")["QueryExecutionId"]
        athena.stop_query_execution(QueryExecutionId=qid)
        ex = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
        self.assertEqual(ex["Status"]["State"], "CANCELLED")
        with self.assertRaises(ClientError) as cm:
            athena.get_query_results(QueryExecutionId=qid)
        self.assertEqual(code_of(cm.exception), "InvalidRequestException")
        tok = "t" * 40
        a = athena.start_query_execution(QueryString="SELECT 2", ClientRequestToken=tok)
        b = athena.start_query_execution(QueryString="SELECT 2", ClientRequestToken=tok)
        self.assertEqual(a["QueryExecutionId"], b["QueryExecutionId"])
        with self.assertRaises(ClientError) as cm:
            athena.get_query_execution(QueryExecutionId="no-such-id")
        self.assertEqual(code_of(cm.exception), "InvalidRequestException")

    def test_show_statements_have_no_header_row(self):
        athena = SRV.client("athena")
        qid, ex, _ = run_query(athena, "SHOW TABLES IN sales")
        self.assertEqual(ex["StatementType"], "UTILITY")
        rows, _, _ = all_rows(athena, qid)
        self.assertEqual(rows, [["events"], ["orders"]])

    def test_result_csv_written_to_output_location(self):
        athena = SRV.client("athena")
        qid, ex, _ = run_query(athena, "SELECT id FROM orders WHERE id <= 2 ORDER BY id")
        loc = ex["ResultConfiguration"]["OutputLocation"]
        self.assertEqual(loc, "s3://testbucket/results/%s.csv" % qid)
        body = SRV.client("s3").get_object(Bucket="testbucket", Key="results/%s.csv" % qid)
        self.assertEqual(body["Body"].read(), b"id\n1\n2\n")


class LifecycleTest(unittest.TestCase):
    def test_idle_timeout_exits(self):
        srv = Server("--catalog", CAT, "--data", LAKE, "--idle-timeout", "1")
        try:
            self.assertEqual(srv.proc.wait(15), 0)
        finally:
            if srv.proc.poll() is None:
                srv.stop()

    def test_port_and_pid_files(self):
        d = tempfile.mkdtemp(dir=_tmp)
        srv = Server("--catalog", CAT, "--data", LAKE, "--port-file", os.path.join(d, "port"),
                     "--pid-file", os.path.join(d, "pid"))
        try:
            with open(os.path.join(d, "port")) as fh:
                self.assertEqual(int(fh.read()), srv.port)
            with open(os.path.join(d, "pid")) as fh:
                self.assertEqual(int(fh.read()), srv.proc.pid)
        finally:
            srv.stop()

    def test_bad_options_are_reported(self):
        p = subprocess.run([sys.executable, SERVER, "--catalog", os.path.join(_tmp, "missing")],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 2)
        self.assertIn("--catalog", p.stderr)
        self.assertIn("not a directory", p.stderr)


class ExamplesTest(unittest.TestCase):
    """The default catalog and lake (examples/) load and query."""

    @classmethod
    def setUpClass(cls):
        cls.srv = Server("--athena-polls", "0")
        _servers.append(cls.srv)

    def test_examples_counts(self):
        lake = os.path.join(SOURCE_DIR, "examples", "lake", "example-lake")
        want = {}
        for dt in sorted(os.listdir(os.path.join(lake, "raw_db", "raw_payments"))):
            with open(os.path.join(lake, "raw_db", "raw_payments", dt, "part-000.json")) as fh:
                want[dt[3:]] = sum(1 for ln in fh if ln.strip())
        athena = self.srv.client("athena")
        qid, ex, _ = run_query(athena, 'SELECT dt, count(*) AS n FROM "raw_db"."raw_payments" '
                               "GROUP BY dt ORDER BY dt", db="analytics_db")
        self.assertEqual(ex["Status"]["State"], "SUCCEEDED", ex["Status"].get("StateChangeReason"))
        rows, _, _ = all_rows(athena, qid)
        self.assertEqual({r[0]: int(r[1]) for r in rows[1:]}, want)
        names = [t["Name"] for p in self.srv.client("glue").get_paginator("get_tables").paginate(
            DatabaseName="analytics_db") for t in p["TableList"]]
        self.assertEqual(names, sorted(os.path.splitext(f)[0] for f in os.listdir(
            os.path.join(SOURCE_DIR, "examples", "catalog", "analytics_db"))))


# ---------------------------------------------------------------------------
class S3Test(Base):
    def test_put_get_head_delete_range_metadata(self):
        s3 = SRV.client("s3")
        key = "dir/a b+c ሴ.csv"
        put = s3.put_object(Bucket="testbucket", Key=key, Body=b"hello world",
                            ContentType="text/csv", Metadata={"origin": "test"})
        self.assertEqual(put["ETag"], '"%s"' % hashlib.md5(b"hello world").hexdigest())
        got = s3.get_object(Bucket="testbucket", Key=key)
        self.assertEqual(got["Body"].read(), b"hello world")
        self.assertEqual(got["ContentType"], "text/csv")
        self.assertEqual(got["Metadata"], {"origin": "test"})
        rng = s3.get_object(Bucket="testbucket", Key=key, Range="bytes=6-")
        self.assertEqual(rng["Body"].read(), b"world")
        self.assertEqual(rng["ContentRange"], "bytes 6-10/11")
        self.assertEqual(rng["ResponseMetadata"]["HTTPStatusCode"], 206)
        head = s3.head_object(Bucket="testbucket", Key=key)
        self.assertEqual(head["ContentLength"], 11)
        s3.delete_object(Bucket="testbucket", Key=key)
        with self.assertRaises(ClientError) as cm:
            s3.get_object(Bucket="testbucket", Key=key)
        self.assertEqual(code_of(cm.exception), "NoSuchKey")
        with self.assertRaises(ClientError) as cm:
            s3.head_object(Bucket="testbucket", Key=key)
        self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 404)
        with self.assertRaises(ClientError) as cm:
            s3.get_object(Bucket="no-such-bucket", Key="x")
        self.assertEqual(code_of(cm.exception), "NoSuchBucket")

    def test_conditional_put(self):
        s3 = SRV.client("s3")
        # botocore 1.29 has no IfNoneMatch parameter: send the header ourselves
        st, _, _ = SRV.signed("PUT", "/testbucket/once2.txt", "s3", body=b"1", s3=True,
                              headers={"If-None-Match": "*"})
        self.assertEqual(st, 200)
        st, _, body = SRV.signed("PUT", "/testbucket/once2.txt", "s3", body=b"2", s3=True,
                                 headers={"If-None-Match": "*"})
        self.assertEqual(st, 412)
        self.assertIn(b"<Code>PreconditionFailed</Code>", body)
        self.assertEqual(s3.get_object(Bucket="testbucket", Key="once2.txt")["Body"].read(), b"1")

    def test_list_objects_v2_paging_and_prefixes(self):
        s3 = SRV.client("s3")
        keys = ["p/a.csv", "p/b.csv", "p/sub/c.csv", "p/sub/d.csv", "p/z.csv", "q.csv"]
        for k in keys:
            s3.put_object(Bucket="testbucket", Key=k, Body=k.encode())
        pages = list(s3.get_paginator("list_objects_v2").paginate(
            Bucket="testbucket", Prefix="p/", Delimiter="/", PaginationConfig={"PageSize": 2}))
        self.assertEqual(len(pages), 2)
        self.assertTrue(pages[0]["IsTruncated"])
        self.assertEqual(pages[0]["KeyCount"], 2)
        contents = [c["Key"] for p in pages for c in p.get("Contents", [])]
        prefixes = [c["Prefix"] for p in pages for c in p.get("CommonPrefixes", [])]
        self.assertEqual(contents, ["p/a.csv", "p/b.csv", "p/z.csv"])
        self.assertEqual(prefixes, ["p/sub/"])
        flat = [c["Key"] for p in s3.get_paginator("list_objects_v2").paginate(
            Bucket="testbucket", Prefix="p/", PaginationConfig={"PageSize": 4})
            for c in p.get("Contents", [])]
        self.assertEqual(flat, keys[:5])
        one = s3.list_objects_v2(Bucket="testbucket", Prefix="q")
        self.assertEqual(one["Contents"][0]["Size"], len(b"q.csv"))
        self.assertFalse(one["IsTruncated"])

    def test_multipart_upload(self):
        s3 = SRV.client("s3")
        up = s3.create_multipart_upload(Bucket="testbucket", Key="big.bin")["UploadId"]
        parts = []
        chunks = [b"aaaaa", b"bbbbbb", b"cc"]
        for i, c in enumerate(chunks, 1):
            e = s3.upload_part(Bucket="testbucket", Key="big.bin", UploadId=up, PartNumber=i,
                               Body=c)["ETag"]
            parts.append({"PartNumber": i, "ETag": e})
        done = s3.complete_multipart_upload(Bucket="testbucket", Key="big.bin", UploadId=up,
                                            MultipartUpload={"Parts": parts})
        md5s = b"".join(hashlib.md5(c).digest() for c in chunks)
        self.assertEqual(done["ETag"], '"%s-3"' % hashlib.md5(md5s).hexdigest())
        self.assertEqual(s3.get_object(Bucket="testbucket", Key="big.bin")["Body"].read(),
                         b"".join(chunks))
        up = s3.create_multipart_upload(Bucket="testbucket", Key="small.bin")["UploadId"]
        e1 = s3.upload_part(Bucket="testbucket", Key="small.bin", UploadId=up, PartNumber=1,
                            Body=b"x")["ETag"]
        e2 = s3.upload_part(Bucket="testbucket", Key="small.bin", UploadId=up, PartNumber=2,
                            Body=b"y")["ETag"]
        with self.assertRaises(ClientError) as cm:
            s3.complete_multipart_upload(Bucket="testbucket", Key="small.bin", UploadId=up,
                                         MultipartUpload={"Parts": [
                                             {"PartNumber": 1, "ETag": e1},
                                             {"PartNumber": 2, "ETag": e2}]})
        self.assertEqual(code_of(cm.exception), "EntityTooSmall")
        s3.abort_multipart_upload(Bucket="testbucket", Key="small.bin", UploadId=up)
        with self.assertRaises(ClientError) as cm:
            s3.upload_part(Bucket="testbucket", Key="small.bin", UploadId=up, PartNumber=3,
                           Body=b"z")
        self.assertEqual(code_of(cm.exception), "NoSuchUpload")

    def test_virtual_host_and_payload_hash(self):
        SRV.client("s3").put_object(Bucket="testbucket", Key="vh.txt", Body=b"vhost")
        host = "testbucket.s3.us-east-1.amazonaws.com"
        st, _, body = SRV.signed("GET", "/vh.txt", "s3", s3=True, host=host)
        self.assertEqual((st, body), (200, b"vhost"))

        def wrong_hash(h, b):
            return h, b"tampered"
        st, _, body = SRV.signed("PUT", "/testbucket/h.txt", "s3", body=b"original", s3=True,
                                 tamper=wrong_hash)
        self.assertEqual(st, 400)
        self.assertIn(b"XAmzContentSHA256Mismatch", body)
        st, _, body = SRV.signed("PUT", "/testbucket/u.txt", "s3", body=b"unsigned", s3=True,
                                 headers={"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"})
        self.assertEqual(st, 200, body)
        # aws-chunked framing (as SDKs send for streams) is decoded before storing
        chunked = b"5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n"
        st, _, body = SRV.signed("PUT", "/testbucket/chunked.txt", "s3", body=chunked, s3=True,
                                 headers={"X-Amz-Content-SHA256":
                                          "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
                                          "Content-Encoding": "aws-chunked",
                                          "X-Amz-Decoded-Content-Length": "11",
                                          "X-Amz-Trailer": "x-amz-checksum-crc32"})
        self.assertEqual(st, 200, body)
        self.assertEqual(SRV.client("s3").get_object(Bucket="testbucket", Key="chunked.txt")[
            "Body"].read(), b"hello world")


# ---------------------------------------------------------------------------
class SignatureTest(Base):
    def test_wrong_secret_is_403_for_every_aws_service(self):
        bad = "x" + SECRET[1:]
        with self.assertRaises(ClientError) as cm:
            SRV.client("glue", secret=bad).get_databases()
        self.assertEqual(code_of(cm.exception), "InvalidSignatureException")
        self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 403)
        with self.assertRaises(ClientError) as cm:
            SRV.client("athena", secret=bad).start_query_execution(QueryString="SELECT 1")
        self.assertEqual(code_of(cm.exception), "InvalidSignatureException")
        with self.assertRaises(ClientError) as cm:
            SRV.client("s3", secret=bad).list_objects_v2(Bucket="testbucket")
        self.assertEqual(code_of(cm.exception), "SignatureDoesNotMatch")
        st, h, _ = SRV.signed("POST", "/model/m%3A0/converse", "bedrock", secret=bad,
                              body=b'{"messages":[]}', headers={"Content-Type": "application/json"})
        self.assertEqual((st, h.get("x-amzn-errortype")), (403, "InvalidSignatureException"))
        log = SRV.log()
        self.assertEqual([e["signature_ok"] for e in log], [False] * 4)
        self.assertTrue(all("canonical_request" in e for e in log))

    def test_tampered_body_and_headers(self):
        hdrs = {"Content-Type": "application/x-amz-json-1.1",
                "X-Amz-Target": "AWSGlue.GetTable"}
        body = json.dumps({"DatabaseName": "sales", "Name": "orders"}).encode()
        st, _, _ = SRV.signed("POST", "/", "glue", body=body, headers=hdrs)
        self.assertEqual(st, 200)

        def body_swap(h, b):
            return h, b.replace(b"orders", b"events")
        st, _, data = SRV.signed("POST", "/", "glue", body=body, headers=hdrs, tamper=body_swap)
        self.assertEqual(st, 403)
        self.assertEqual(json.loads(data)["__type"], "InvalidSignatureException")

        def target_swap(h, b):
            h = dict(h)
            h["X-Amz-Target"] = "AWSGlue.GetTables"
            return h, b
        st, _, _ = SRV.signed("POST", "/", "glue", body=body, headers=hdrs, tamper=target_swap)
        self.assertEqual(st, 403)

        def wrong_service(h, b):
            h = dict(h)
            h["X-Amz-Target"] = "AmazonAthena.GetQueryExecution"
            return h, b
        st, _, data = SRV.signed("POST", "/", "glue", body=body, headers=hdrs,
                                 tamper=wrong_service)
        self.assertEqual(st, 403)
        self.assertIn("athena", json.loads(data)["Message"])

    def test_unknown_key_missing_auth_and_skew(self):
        with self.assertRaises(ClientError) as cm:
            SRV.client("glue", akid="AKIDUNKNOWN").get_databases()
        self.assertEqual(code_of(cm.exception), "UnrecognizedClientException")
        st, _, data = SRV.raw("POST", "/", b"{}", {"X-Amz-Target": "AWSGlue.GetDatabases",
                                                    "Content-Type": "application/x-amz-json-1.1"})
        self.assertEqual((st, json.loads(data)["__type"]),
                         (403, "MissingAuthenticationTokenException"))
        old = (datetime.datetime.utcnow() - datetime.timedelta(minutes=20)).strftime(
            "%Y%m%dT%H%M%SZ")
        hdrs = {"Content-Type": "application/x-amz-json-1.1",
                "X-Amz-Target": "AWSGlue.GetDatabases", "X-Amz-Date": old}
        req = AWSRequest(method="POST", url=SRV.url + "/", data=b"{}", headers=hdrs)
        req.context["timestamp"] = old
        signer = SigV4Auth(Credentials(AKID, SECRET), "glue", REGION)
        req.headers["Host"] = "127.0.0.1:%d" % SRV.port
        cr = signer.canonical_request(req)
        sig = signer.signature(signer.string_to_sign(req, cr), req)
        h = dict(req.headers.items())
        h["Authorization"] = ("AWS4-HMAC-SHA256 Credential=%s/%s/%s/glue/aws4_request, "
                              "SignedHeaders=%s, Signature=%s" % (
                                  AKID, old[:8], REGION, signer.signed_headers(
                                      signer.headers_to_sign(req)), sig))
        st, _, data = SRV.raw("POST", "/", b"{}", h)
        self.assertEqual(st, 403)
        self.assertIn("Signature expired", json.loads(data)["Message"])

    def test_wire_reference_vectors(self):
        # Fixed vectors of aws-wire.md 1.10 (time 20150830T123600Z): a server whose clock is
        # set to that time must accept them byte for byte, and reject one changed byte.
        skew = datetime.datetime(2015, 8, 30, 12, 36, tzinfo=datetime.timezone.utc).timestamp() \
            - time.time()
        srv = Server("--catalog", CAT, "--data", LAKE, "--clock-skew", str(skew))
        _servers.append(srv)
        body = b'{"DatabaseName":"analytics","Name":"events"}'
        h = {"Content-Type": "application/x-amz-json-1.1", "Host": "glue.us-east-1.amazonaws.com",
             "X-Amz-Date": "20150830T123600Z", "X-Amz-Target": "AWSGlue.GetTable",
             "Authorization": "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/glue/"
             "aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature="
             "bdfeb48540d7471c531a8b77d0dab6adf10ce66d14aefe8b170af9ca4a147260"}
        st, _, data = srv.raw("POST", "/", body, h)
        self.assertEqual((st, json.loads(data)["__type"]), (400, "EntityNotFoundException"))
        st, _, _ = srv.raw("POST", "/", body.replace(b"events", b"eventz"), h)
        self.assertEqual(st, 403)
        body = b'{"messages":[{"role":"user","content":[{"text":"Say ok"}]}]}'
        h = {"Content-Type": "application/json", "Host": "bedrock-runtime.us-east-1.amazonaws.com",
             "X-Amz-Date": "20150830T123600Z",
             "Authorization": "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/"
             "bedrock/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature="
             "5e5952dee4eb7698b15f5c25d521ce05fffe102934dde90d88872c67be80da4e"}
        path = "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse"
        st, _, data = srv.raw("POST", path, body, h)
        self.assertEqual(st, 200, data)
        self.assertEqual(json.loads(data)["output"]["message"]["content"][0]["text"],
                         "echo: Say ok")
        st, _, _ = srv.raw("POST", path.replace("%3A", ":"), body, h)
        self.assertEqual(st, 403)
        h = {"Host": "127.0.0.1:4568", "X-Amz-Date": "20150830T123600Z",
             "X-Amz-Content-SHA256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b"
             "7852b855",
             "Authorization": "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/s3/"
             "aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature="
             "05e8858f2a411bd394f35add5aa084b419f39e195c14339e29e02f193f75e47c"}
        st, _, data = srv.raw("GET", "/testbucket/dir/a%20b%2Bc.csv", b"", h)
        self.assertEqual(st, 404, data)
        self.assertIn(b"NoSuchKey", data)
        st, _, data = srv.raw("GET", "/testbucket/dir/a%20b+c.csv", b"", h)
        self.assertEqual(st, 403)
        self.assertIn(b"SignatureDoesNotMatch", data)

    def test_presigned_urls(self):
        SRV.client("s3").put_object(Bucket="testbucket", Key="pre sign+d.txt", Body=b"presigned")
        s = botocore.session.get_session()
        s3 = s.create_client("s3", endpoint_url=SRV.url, region_name=REGION,
                             aws_access_key_id=AKID, aws_secret_access_key=SECRET,
                             config=Config(signature_version="s3v4"))
        url = s3.generate_presigned_url("get_object", Params={"Bucket": "testbucket",
                                                              "Key": "pre sign+d.txt"})
        self.assertIn("X-Amz-Signature=", url)
        path = url[len(SRV.url):]
        st, _, body = SRV.raw("GET", path)
        self.assertEqual((st, body), (200, b"presigned"))
        st, _, body = SRV.raw("GET", path.replace("X-Amz-Expires=3600", "X-Amz-Expires=3601"))
        self.assertEqual(st, 403)
        self.assertIn(b"SignatureDoesNotMatch", body)
        url = s3.generate_presigned_url("get_object", ExpiresIn=1, Params={
            "Bucket": "testbucket", "Key": "pre sign+d.txt"})
        time.sleep(2.1)
        st, _, body = SRV.raw("GET", url[len(SRV.url):])
        self.assertEqual(st, 403)
        self.assertIn(b"Request has expired", body)
        self.assertNotIn("X-Amz-Signature=" + url.split("X-Amz-Signature=")[1],
                         json.dumps(SRV.log()))

    def test_session_token_required_when_configured(self):
        srv = Server("--catalog", CAT, "--data", LAKE, "--session-token", "tok-secret-123")
        _servers.append(srv)
        self.assertEqual(len(srv.client("glue", token="tok-secret-123").get_databases()[
            "DatabaseList"]), 2)
        with self.assertRaises(ClientError) as cm:
            srv.client("glue").get_databases()
        self.assertEqual(code_of(cm.exception), "UnrecognizedClientException")
        with self.assertRaises(ClientError) as cm:
            srv.client("glue", token="tok-secret-999").get_databases()
        self.assertEqual(code_of(cm.exception), "UnrecognizedClientException")
        text = json.dumps(srv.log())
        self.assertNotIn("tok-secret", text)

    def test_log_never_holds_secrets(self):
        SRV.client("glue", token=None).get_databases()
        SRV.raw("POST", "/v1/chat/completions", json.dumps(
            {"model": "m", "messages": [{"role": "user", "content": "hi"}]}).encode(),
            {"Authorization": "Bearer " + API_KEY, "Content-Type": "application/json"})
        SRV.raw("POST", "/v1beta/models/g:generateContent?key=" + API_KEY, json.dumps(
            {"contents": [{"parts": [{"text": "hi"}]}]}).encode())
        with open(os.path.join(_tmp, "requests.jsonl")) as fh:
            filelog = fh.read()
        for text in (json.dumps(SRV.log()), filelog):
            self.assertNotIn(SECRET, text)
            self.assertNotIn(API_KEY, text)
            self.assertNotIn("Signature=", text)
            self.assertNotIn('"authorization"', text.lower())
        self.assertEqual([e["signature_ok"] for e in SRV.log()], [True, None, None])


# ---------------------------------------------------------------------------
def bedrock_call(srv, model, op, payload, bearer=None, fault=None, secret=SECRET):
    path = "/model/%s/%s" % (urllib.parse.quote(model, safe=""), op)
    hdrs = {"Content-Type": "application/json", "Accept": "application/json"}
    if fault:
        hdrs["x-weir-fault"] = fault
    body = json.dumps(payload).encode()
    if bearer:
        hdrs["Authorization"] = "Bearer " + bearer
        st, h, data = srv.raw("POST", path, body, hdrs)
    else:
        st, h, data = srv.signed("POST", path, "bedrock", body=body, headers=hdrs, secret=secret)
    return st, h, json.loads(data) if data else None


class LlmTest(Base):
    MODEL = "anthropic.claude-3-5-sonnet-20240620-v1:0"

    def test_bedrock_converse_reply_and_tool(self):
        prompt = 'Profile this. {"weir_test_reply": {"summary": "ok", "n": 2}}'
        st, _, out = bedrock_call(SRV, self.MODEL, "converse", {
            "messages": [{"role": "user", "content": [{"text": prompt}]}],
            "system": [{"text": "JSON only"}], "inferenceConfig": {"maxTokens": 256}})
        self.assertEqual(st, 200, out)
        self.assertEqual(json.loads(out["output"]["message"]["content"][0]["text"]),
                         {"summary": "ok", "n": 2})
        self.assertEqual(out["stopReason"], "end_turn")
        u = out["usage"]
        self.assertEqual(u["totalTokens"], u["inputTokens"] + u["outputTokens"])
        self.assertIn("latencyMs", out["metrics"])
        st, _, out = bedrock_call(SRV, self.MODEL, "converse", {
            "messages": [{"role": "user", "content": [{"text": prompt}]}],
            "toolConfig": {"tools": [{"toolSpec": {"name": "emit", "inputSchema": {
                "json": {"type": "object"}}}}], "toolChoice": {"tool": {"name": "emit"}}}})
        self.assertEqual(out["stopReason"], "tool_use")
        tu = out["output"]["message"]["content"][0]["toolUse"]
        self.assertEqual((tu["name"], tu["input"]), ("emit", {"summary": "ok", "n": 2}))
        st, _, out = bedrock_call(SRV, self.MODEL, "converse", {
            "messages": [{"role": "user", "content": [{"text": "x" * 100}]}],
            "inferenceConfig": {"maxTokens": 3}})
        self.assertEqual(out["stopReason"], "max_tokens")
        self.assertEqual(len(out["output"]["message"]["content"][0]["text"]), 12)
        st, h, out = bedrock_call(SRV, self.MODEL, "converse", {"messages": []})
        self.assertEqual((st, h.get("x-amzn-errortype")), (400, "ValidationException"))
        self.assertIn("messages", out["message"])

    def test_bedrock_invoke_and_bearer(self):
        payload = {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 100,
                   "messages": [{"role": "user", "content": [
                       {"type": "text", "text": 'x {"weir_test_reply": "plain text"}'}]}]}
        st, _, out = bedrock_call(SRV, self.MODEL, "invoke", payload)
        self.assertEqual(st, 200, out)
        self.assertEqual(out["content"], [{"type": "text", "text": "plain text"}])
        self.assertEqual((out["type"], out["role"], out["stop_reason"]),
                         ("message", "assistant", "end_turn"))
        self.assertGreaterEqual(out["usage"]["input_tokens"], 1)
        st, _, out = bedrock_call(SRV, self.MODEL, "invoke", payload, bearer=BEDROCK_TOKEN)
        self.assertEqual(st, 200)
        st, h, _ = bedrock_call(SRV, self.MODEL, "invoke", payload, bearer="wrong")
        self.assertEqual(st, 403)
        forced = dict(payload, tools=[{"name": "emit", "input_schema": {"type": "object"}}],
                      tool_choice={"type": "tool", "name": "emit"})
        forced["messages"] = [{"role": "user", "content": "Describe x"}]
        st, _, out = bedrock_call(SRV, self.MODEL, "invoke", forced)
        self.assertEqual(out["stop_reason"], "tool_use")
        self.assertEqual(out["content"][0]["input"], {"echo": "Describe x"})

    def test_openai_chat(self):
        body = {"model": "gpt-4o-mini", "messages": [
            {"role": "system", "content": "JSON"},
            {"role": "user", "content": "Describe column x"}],
            "response_format": {"type": "json_object"}}
        st, _, data = SRV.raw("POST", "/v1/chat/completions", json.dumps(body).encode(),
                              {"Authorization": "Bearer " + API_KEY})
        out = json.loads(data)
        self.assertEqual(st, 200, out)
        self.assertEqual(json.loads(out["choices"][0]["message"]["content"]),
                         {"echo": "Describe column x"})
        self.assertEqual(out["choices"][0]["finish_reason"], "stop")
        self.assertEqual(out["usage"]["total_tokens"],
                         out["usage"]["prompt_tokens"] + out["usage"]["completion_tokens"])
        st, _, data = SRV.raw("POST", "/v1/chat/completions", json.dumps(body).encode(),
                              {"Authorization": "Bearer nope"})
        self.assertEqual(st, 401)
        self.assertEqual(json.loads(data)["error"]["code"], "invalid_api_key")
        body["response_format"] = None
        body["messages"][1]["content"] = "plain"
        st, _, data = SRV.raw("POST", "/v1/chat/completions", json.dumps(body).encode(),
                              {"Authorization": "Bearer " + API_KEY})
        self.assertEqual(json.loads(data)["choices"][0]["message"]["content"], "echo: plain")

    def test_gemini(self):
        body = {"contents": [{"role": "user", "parts": [
            {"text": 'q {"weir_test_reply": ["a", 1]}'}]}],
            "generationConfig": {"responseMimeType": "application/json"}}
        st, _, data = SRV.raw("POST", "/v1beta/models/gemini-2.5-flash:generateContent",
                              json.dumps(body).encode(), {"x-goog-api-key": API_KEY})
        out = json.loads(data)
        self.assertEqual(st, 200, out)
        self.assertEqual(out["candidates"][0]["content"]["parts"][0]["text"], '["a",1]')
        self.assertEqual(out["candidates"][0]["finishReason"], "STOP")
        self.assertEqual(out["modelVersion"], "gemini-2.5-flash")
        self.assertIn("totalTokenCount", out["usageMetadata"])
        st, _, data = SRV.raw("POST", "/v1beta/models/gemini-2.5-flash:generateContent",
                              json.dumps(body).encode(), {"x-goog-api-key": "bad"})
        self.assertEqual((st, json.loads(data)["error"]["status"]), (400, "INVALID_ARGUMENT"))


# ---------------------------------------------------------------------------
class FaultTest(Base):
    def test_header_throttle_n_then_success_with_retries(self):
        glue = SRV.client("glue", attempts=3)
        glue.meta.events.register("before-sign.glue.*", lambda request, **kw:
                                  request.headers.__setitem__("x-weir-fault", "throttle:2"))
        out = glue.get_databases()
        self.assertEqual(out["ResponseMetadata"]["RetryAttempts"], 2)
        self.assertEqual([(e["status"], e.get("error")) for e in SRV.log()],
                         [(400, "ThrottlingException"), (400, "ThrottlingException"),
                          (200, None)])
        # the counter is spent: the same header value now always succeeds
        glue.get_databases()
        self.assertEqual(SRV.log()[-1]["status"], 200)

    def test_admin_fault_queue_per_service_and_operation(self):
        st, _ = SRV.admin("POST", "faults", {"service": "athena", "operation":
                                             "GetQueryExecution", "fault": "throttle",
                                             "count": 2})
        self.assertEqual(st, 200)
        athena = SRV.client("athena")
        qid = athena.start_query_execution(QueryString="SELECT 1")["QueryExecutionId"]
        for _ in range(2):
            with self.assertRaises(ClientError) as cm:
                athena.get_query_execution(QueryExecutionId=qid)
            self.assertEqual(code_of(cm.exception), "ThrottlingException")
        self.assertEqual(athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"][
            "Status"]["State"], "QUEUED")
        self.assertEqual(SRV.admin("POST", "faults", {"service": "nope", "fault": "500"})[0], 400)
        self.assertEqual(SRV.admin("POST", "faults", {"service": "s3", "fault": "boom"})[0], 400)

    def _with_fault(self, service, fault):
        SRV.admin("POST", "faults", {"service": service, "fault": fault})

    def test_error_shapes_per_service(self):
        cases = [("glue", "500", lambda: SRV.client("glue").get_databases(),
                  "InternalServiceException", 500),
                 ("athena", "503", lambda: SRV.client("athena").start_query_execution(
                     QueryString="SELECT 1"), "ServiceUnavailableException", 503),
                 ("s3", "throttle", lambda: SRV.client("s3").list_objects_v2(Bucket="testbucket"),
                  "SlowDown", 503),
                 ("s3", "500", lambda: SRV.client("s3").list_objects_v2(Bucket="testbucket"),
                  "InternalError", 500),
                 ("glue", "expired", lambda: SRV.client("glue").get_databases(),
                  "ExpiredTokenException", 400),
                 ("s3", "expired", lambda: SRV.client("s3").list_objects_v2(Bucket="testbucket"),
                  "ExpiredToken", 400),
                 ("athena", "toomany", lambda: SRV.client("athena").start_query_execution(
                     QueryString="SELECT 1"), "TooManyRequestsException", 400)]
        for service, fault, call, code, status in cases:
            with self.subTest(service=service, fault=fault):
                self._with_fault(service, fault)
                with self.assertRaises(ClientError) as cm:
                    call()
                self.assertEqual(code_of(cm.exception), code)
                self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"],
                                 status)
        payload = {"messages": [{"role": "user", "content": [{"text": "hi"}]}]}
        st, h, _ = bedrock_call(SRV, "m", "converse", payload, fault="throttle")
        self.assertEqual((st, h.get("x-amzn-errortype")), (429, "ThrottlingException"))
        st, _, data = SRV.raw("POST", "/v1/chat/completions", json.dumps(
            {"model": "m", "messages": [{"role": "user", "content": "x"}]}).encode(),
            {"Authorization": "Bearer " + API_KEY, "x-weir-fault": "throttle"})
        self.assertEqual(st, 429)
        self.assertEqual(json.loads(data)["error"]["code"], "rate_limit_exceeded")
        st, _, data = SRV.raw("POST", "/v1beta/models/g:generateContent", json.dumps(
            {"contents": [{"parts": [{"text": "x"}]}]}).encode(),
            {"x-goog-api-key": API_KEY, "x-weir-fault": "503:1"})
        self.assertEqual((st, json.loads(data)["error"]["status"]), (503, "UNAVAILABLE"))

    def test_slow_truncate_drop_stall_redirect(self):
        payload = {"messages": [{"role": "user", "content": [{"text": "hi"}]}]}
        t0 = time.time()
        st, _, _ = bedrock_call(SRV, "m", "converse", payload, fault="slow:400")
        self.assertEqual(st, 200)
        self.assertGreaterEqual(time.time() - t0, 0.4)
        with self.assertRaises(http.client.IncompleteRead):
            bedrock_call(SRV, "m", "converse", payload, fault="truncate")
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError)):
            bedrock_call(SRV, "m", "converse", payload, fault="drop")
        t0 = time.time()
        st, _, out = bedrock_call(SRV, "m", "converse", payload, fault="stall:300")
        self.assertEqual(st, 200)
        self.assertGreaterEqual(time.time() - t0, 0.3)
        self.assertEqual(out["output"]["message"]["content"][0]["text"], "echo: hi")
        st, h, _ = bedrock_call(SRV, "m", "converse", payload, fault="redirect")
        self.assertEqual(st, 307)
        self.assertEqual(h["location"], "http://localhost:%d/model/m/converse" % SRV.port)
        with self.assertRaises(ClientError) as cm:
            glue = SRV.client("glue")
            glue.meta.events.register("before-sign.glue.*", lambda request, **kw:
                                      request.headers.__setitem__("x-weir-fault", "wat"))
            glue.get_databases()
        self.assertIn("unknown fault", cm.exception.response["Error"]["Message"])
        faults = [e["fault"] for e in SRV.log()]
        self.assertEqual(faults[:6], ["slow:400", "truncate", "drop", "stall:300", "redirect",
                                      None])

    def test_reset_clears_log(self):
        SRV.client("glue").get_databases()
        self.assertEqual(len(SRV.log()), 1)
        SRV.admin("POST", "reset")
        self.assertEqual(SRV.log(), [])
        st, _, data = SRV.raw("GET", "/__weir/health")
        self.assertEqual((st, json.loads(data)), (200, {"ok": True}))


if __name__ == "__main__":
    unittest.main(verbosity=2)
