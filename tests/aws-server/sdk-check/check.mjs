// One-off shape check: every operation tests/aws-server implements, called with
// the official AWS SDK v3 JS clients against a running server (run.sh starts
// it). If the SDK parses an answer and yields the expected fields, the server's
// canned shapes are real. Env: AWS_SERVER_URL, BEDROCK_TOKEN.
import assert from "node:assert/strict";
import {
  GlueClient, GetDatabasesCommand, GetTablesCommand, GetTableCommand, GetPartitionsCommand,
  CreateTableCommand, UpdateTableCommand, paginateGetTables, EntityNotFoundException,
} from "@aws-sdk/client-glue";
import {
  AthenaClient, StartQueryExecutionCommand, GetQueryExecutionCommand,
  GetQueryResultsCommand, StopQueryExecutionCommand, InvalidRequestException,
} from "@aws-sdk/client-athena";
import {
  S3Client, CreateBucketCommand, HeadBucketCommand, ListBucketsCommand, PutObjectCommand,
  GetObjectCommand, HeadObjectCommand, DeleteObjectCommand, DeleteObjectsCommand,
  CopyObjectCommand, ListObjectsV2Command, paginateListObjectsV2, CreateMultipartUploadCommand,
  UploadPartCommand, CompleteMultipartUploadCommand, AbortMultipartUploadCommand, NoSuchKey,
} from "@aws-sdk/client-s3";
import {
  BedrockRuntimeClient, ConverseCommand, InvokeModelCommand,
} from "@aws-sdk/client-bedrock-runtime";
import { NodeHttpHandler } from "@smithy/node-http-handler";

const endpoint = process.env.AWS_SERVER_URL;
assert.ok(endpoint, "AWS_SERVER_URL must be set (run.sh does this)");
const credentials = {
  accessKeyId: "AKIDEXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
};
const badCredentials = { ...credentials, secretAccessKey: "x" + credentials.secretAccessKey.slice(1) };
const base = { endpoint, region: "us-east-1", credentials, maxAttempts: 1 };

let checks = 0;
async function check(name, fn) {
  try {
    await fn();
    checks++;
    console.log("ok   " + name);
  } catch (e) {
    console.log("FAIL " + name + ": " + (e && e.stack || e));
    process.exitCode = 1;
  }
}

async function rejectsWith(promise, name, status) {
  try {
    await promise;
  } catch (e) {
    assert.equal(e.name, name, `expected ${name}, got ${e.name}: ${e.message}`);
    if (status) assert.equal(e.$metadata.httpStatusCode, status);
    return e;
  }
  assert.fail(`expected ${name}, the call succeeded`);
}

/** A middleware that adds x-weir-fault to every request of a client. */
function withFault(client, value) {
  client.middlewareStack.add((next) => async (args) => {
    args.request.headers["x-weir-fault"] = value;
    return next(args);
  }, { step: "build", name: "weirFault" });
  return client;
}

// ---- Glue -------------------------------------------------------------------
const glue = new GlueClient(base);
await check("glue GetDatabases (page of 2, NextToken)", async () => {
  const out = await glue.send(new GetDatabasesCommand({}));
  assert.deepEqual(out.DatabaseList.map((d) => d.Name), ["analytics_db", "raw_db"]);
  assert.ok(out.DatabaseList[0].CreateTime instanceof Date);
  assert.equal(out.DatabaseList[0].CatalogId, "123456789012");
});
await check("glue GetTables paginated (empty page in between)", async () => {
  const names = [];
  let pages = 0;
  for await (const p of paginateGetTables({ client: glue, pageSize: 1 }, { DatabaseName: "analytics_db" })) {
    pages++;
    names.push(...p.TableList.map((t) => t.Name));
  }
  const all = await glue.send(new GetTablesCommand({ DatabaseName: "analytics_db", MaxResults: 100 }));
  assert.deepEqual(names, all.TableList.map((t) => t.Name));
  assert.ok(names.includes("loan_repayment_fact"));
  assert.equal(pages, names.length + 1);  // one page per table plus the one empty page
});
await check("glue GetTable shape", async () => {
  const { Table: t } = await glue.send(new GetTableCommand({ DatabaseName: "analytics_db", Name: "loan_repayment_fact" }));
  assert.equal(t.TableType, "EXTERNAL_TABLE");
  assert.equal(t.StorageDescriptor.Location, "s3://example-lake/analytics_db/loan_repayment_fact/");
  assert.deepEqual(t.StorageDescriptor.Columns[3], { Name: "emi_amount", Type: "double", Comment: "Instalment amount in INR" });
  assert.equal(t.StorageDescriptor.SerdeInfo.Parameters["field.delim"], ",");
  assert.equal(t.PartitionKeys[0].Name, "dt");
  assert.equal(t.Parameters.classification, "csv");
  assert.ok(t.CreateTime instanceof Date);
  assert.equal(t.StorageDescriptor.NumberOfBuckets, -1);
  assert.equal(t.IsRegisteredWithLakeFormation, false);
});
await check("glue GetPartitions", async () => {
  const out = await glue.send(new GetPartitionsCommand({ DatabaseName: "raw_db", TableName: "raw_payments", MaxResults: 10 }));
  assert.deepEqual(out.Partitions.map((p) => p.Values), [["2026-10-01"], ["2026-10-02"], ["2026-10-03"]]);
  assert.ok(out.Partitions[0].CreationTime instanceof Date);
});
await check("glue CreateTable / UpdateTable (in memory)", async () => {
  const TableInput = {
    Name: "sdk_check_profile", Description: "v1", TableType: "EXTERNAL_TABLE",
    Parameters: { EXTERNAL: "TRUE", classification: "csv" },
    StorageDescriptor: { Columns: [{ Name: "id", Type: "bigint" }], Location: "s3://example-lake/sdk_check_profile/" },
    PartitionKeys: [{ Name: "dt", Type: "string" }],
  };
  await glue.send(new CreateTableCommand({ DatabaseName: "analytics_db", TableInput }));
  await rejectsWith(glue.send(new CreateTableCommand({ DatabaseName: "analytics_db", TableInput })), "AlreadyExistsException", 400);
  await glue.send(new UpdateTableCommand({ DatabaseName: "analytics_db", TableInput: { ...TableInput, Description: "v2" }, VersionId: "0" }));
  const { Table: t } = await glue.send(new GetTableCommand({ DatabaseName: "analytics_db", Name: "sdk_check_profile" }));
  assert.equal(t.Description, "v2");
  assert.equal(t.VersionId, "1");
  assert.ok(t.UpdateTime instanceof Date);
});
await check("glue EntityNotFoundException", async () => {
  const e = await rejectsWith(glue.send(new GetTableCommand({ DatabaseName: "analytics_db", Name: "nope" })), "EntityNotFoundException", 400);
  assert.ok(e instanceof EntityNotFoundException);
  assert.match(e.message, /nope/);
});
await check("glue bad signature -> InvalidSignatureException 403", async () => {
  const bad = new GlueClient({ ...base, credentials: badCredentials });
  await rejectsWith(bad.send(new GetDatabasesCommand({})), "InvalidSignatureException", 403);
});
await check("glue throttle:2 then success with SDK retries", async () => {
  const c = withFault(new GlueClient({ ...base, maxAttempts: 3 }), "throttle:2");
  const out = await c.send(new GetDatabasesCommand({}));
  assert.equal(out.$metadata.attempts, 3);
});

// ---- Athena -----------------------------------------------------------------
const athena = new AthenaClient(base);
async function runQuery(sql, db = "analytics_db") {
  const { QueryExecutionId } = await athena.send(new StartQueryExecutionCommand({
    QueryString: sql, QueryExecutionContext: { Database: db, Catalog: "AwsDataCatalog" },
    ResultConfiguration: { OutputLocation: "s3://example-lake/athena-results/" }, WorkGroup: "primary",
  }));
  const states = [];
  for (let i = 0; i < 20; i++) {
    const { QueryExecution: q } = await athena.send(new GetQueryExecutionCommand({ QueryExecutionId }));
    states.push(q.Status.State);
    if (["SUCCEEDED", "FAILED", "CANCELLED"].includes(q.Status.State)) return { id: QueryExecutionId, q, states };
  }
  throw new Error("query did not finish: " + states.join(","));
}
await check("athena Start/GetQueryExecution state machine + statistics", async () => {
  const { q, states } = await runQuery("SELECT status, count(*) AS n FROM loan_repayment_fact GROUP BY status ORDER BY status");
  assert.deepEqual(states, ["QUEUED", "RUNNING", "SUCCEEDED"]);
  assert.ok(q.Status.SubmissionDateTime instanceof Date);
  assert.ok(q.Status.CompletionDateTime instanceof Date);
  assert.ok(q.Statistics.DataScannedInBytes > 0);
  assert.ok(q.Statistics.EngineExecutionTimeInMillis >= 1);
  assert.equal(q.StatementType, "DML");
  assert.equal(q.EngineVersion.EffectiveEngineVersion, "Athena engine version 3");
  assert.match(q.ResultConfiguration.OutputLocation, /^s3:\/\/example-lake\/athena-results\/.*\.csv$/);
});
await check("athena GetQueryResults paging, header row once, NULL datum, ColumnInfo", async () => {
  const { id } = await runQuery("SELECT loan_id, CAST(NULL AS varchar) AS nothing, '' AS empty, emi_amount FROM loan_repayment_fact ORDER BY loan_id, payment_date LIMIT 5");
  const p1 = await athena.send(new GetQueryResultsCommand({ QueryExecutionId: id, MaxResults: 3 }));
  assert.deepEqual(p1.ResultSet.Rows[0].Data.map((d) => d.VarCharValue), ["loan_id", "nothing", "empty", "emi_amount"]);
  assert.equal(p1.ResultSet.Rows[1].Data[1].VarCharValue, undefined);
  assert.equal(p1.ResultSet.Rows[1].Data[2].VarCharValue, "");
  assert.deepEqual(p1.ResultSet.ResultSetMetadata.ColumnInfo.map((c) => c.Type), ["varchar", "varchar", "varchar", "double"]);
  assert.equal(p1.ResultSet.ResultSetMetadata.ColumnInfo[0].Nullable, "UNKNOWN");
  assert.ok(p1.NextToken);
  const p2 = await athena.send(new GetQueryResultsCommand({ QueryExecutionId: id, MaxResults: 3, NextToken: p1.NextToken }));
  assert.equal(p2.ResultSet.Rows.length, 3);
  assert.notEqual(p2.ResultSet.Rows[0].Data[0].VarCharValue, "loan_id");
  assert.equal(p2.NextToken, undefined);
  assert.equal(p2.UpdateCount, 0);
});
await check("athena FAILED with StateChangeReason + AthenaError", async () => {
  const { q } = await runQuery("SELECT no_such_column FROM dim_loan");
  assert.equal(q.Status.State, "FAILED");
  assert.match(q.Status.StateChangeReason, /^COLUMN_NOT_FOUND/);
  assert.equal(q.Status.AthenaError.ErrorCategory, 2);
  assert.equal(q.Status.AthenaError.Retryable, false);
});
await check("athena StopQueryExecution -> CANCELLED; results -> InvalidRequestException", async () => {
  const { QueryExecutionId } = await athena.send(new StartQueryExecutionCommand({ QueryString: "SELECT 1" }));
  await athena.send(new StopQueryExecutionCommand({ QueryExecutionId }));
  const { QueryExecution: q } = await athena.send(new GetQueryExecutionCommand({ QueryExecutionId }));
  assert.equal(q.Status.State, "CANCELLED");
  const e = await rejectsWith(athena.send(new GetQueryResultsCommand({ QueryExecutionId })), "InvalidRequestException", 400);
  assert.ok(e instanceof InvalidRequestException);
  assert.equal(e.AthenaErrorCode, "INVALID_INPUT");
});
await check("athena TooManyRequestsException (Reason)", async () => {
  const c = withFault(new AthenaClient(base), "toomany");
  const e = await rejectsWith(c.send(new StartQueryExecutionCommand({ QueryString: "SELECT 1" })), "TooManyRequestsException", 400);
  assert.equal(e.Reason, "CONCURRENT_QUERY_LIMIT_EXCEEDED");
});

// ---- S3 ---------------------------------------------------------------------
const s3 = new S3Client({ ...base, forcePathStyle: true });
const B = "sdk-check-bucket";
await check("s3 CreateBucket/HeadBucket/ListBuckets", async () => {
  await s3.send(new CreateBucketCommand({ Bucket: B }));
  await s3.send(new HeadBucketCommand({ Bucket: B }));
  const out = await s3.send(new ListBucketsCommand({}));
  assert.ok(out.Buckets.some((b) => b.Name === B));
  assert.ok(out.Buckets[0].CreationDate instanceof Date);
});
await check("s3 PutObject/GetObject/HeadObject/Range/metadata", async () => {
  const key = "dir/a b+c ሴ.csv";
  const put = await s3.send(new PutObjectCommand({ Bucket: B, Key: key, Body: "hello world", ContentType: "text/csv", Metadata: { origin: "sdk" } }));
  assert.equal(put.ETag, '"5eb63bbbe01eeed093cb22bb8f5acdc3"');
  const got = await s3.send(new GetObjectCommand({ Bucket: B, Key: key }));
  assert.equal(await got.Body.transformToString(), "hello world");
  assert.equal(got.ContentType, "text/csv");
  assert.deepEqual(got.Metadata, { origin: "sdk" });
  assert.ok(got.LastModified instanceof Date);
  const rng = await s3.send(new GetObjectCommand({ Bucket: B, Key: key, Range: "bytes=0-4" }));
  assert.equal(await rng.Body.transformToString(), "hello");
  assert.equal(rng.ContentRange, "bytes 0-4/11");
  const head = await s3.send(new HeadObjectCommand({ Bucket: B, Key: key }));
  assert.equal(head.ContentLength, 11);
});
await check("s3 If-None-Match: * -> 412 PreconditionFailed", async () => {
  await s3.send(new PutObjectCommand({ Bucket: B, Key: "once", Body: "1", IfNoneMatch: "*" }));
  await rejectsWith(s3.send(new PutObjectCommand({ Bucket: B, Key: "once", Body: "2", IfNoneMatch: "*" })), "PreconditionFailed", 412);
});
await check("s3 ListObjectsV2 delimiter + paging", async () => {
  for (const k of ["p/a", "p/b", "p/s/c", "p/s/d", "p/z"]) await s3.send(new PutObjectCommand({ Bucket: B, Key: k, Body: k }));
  const keys = [], prefixes = [];
  let pages = 0;
  for await (const p of paginateListObjectsV2({ client: s3, pageSize: 2 }, { Bucket: B, Prefix: "p/", Delimiter: "/" })) {
    pages++;
    keys.push(...(p.Contents || []).map((c) => c.Key));
    prefixes.push(...(p.CommonPrefixes || []).map((c) => c.Prefix));
    if (p.IsTruncated) assert.ok(p.NextContinuationToken);
  }
  assert.deepEqual(keys, ["p/a", "p/b", "p/z"]);
  assert.deepEqual(prefixes, ["p/s/"]);
  assert.equal(pages, 2);
  const one = await s3.send(new ListObjectsV2Command({ Bucket: B, Prefix: "p/a" }));
  assert.equal(one.KeyCount, 1);
  assert.equal(one.Contents[0].Size, 3);
  assert.ok(one.Contents[0].LastModified instanceof Date);
});
await check("s3 CopyObject + DeleteObjects + DeleteObject + NoSuchKey", async () => {
  const c = await s3.send(new CopyObjectCommand({ Bucket: B, Key: "copy", CopySource: `${B}/p/a` }));
  assert.ok(c.CopyObjectResult.ETag);
  const d = await s3.send(new DeleteObjectsCommand({ Bucket: B, Delete: { Objects: [{ Key: "p/b" }, { Key: "copy" }] } }));
  assert.deepEqual(d.Deleted.map((x) => x.Key).sort(), ["copy", "p/b"]);
  await s3.send(new DeleteObjectCommand({ Bucket: B, Key: "p/a" }));
  const e = await rejectsWith(s3.send(new GetObjectCommand({ Bucket: B, Key: "p/a" })), "NoSuchKey", 404);
  assert.ok(e instanceof NoSuchKey);
  await rejectsWith(s3.send(new GetObjectCommand({ Bucket: "no-such-bucket", Key: "x" })), "NoSuchBucket", 404);
});
await check("s3 multipart upload + abort", async () => {
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: "mp" }));
  const parts = [];
  for (const [i, body] of [["aaaaa"], ["bbbbb"], ["c"]].entries()) {
    const r = await s3.send(new UploadPartCommand({ Bucket: B, Key: "mp", UploadId, PartNumber: i + 1, Body: body[0] }));
    parts.push({ PartNumber: i + 1, ETag: r.ETag });
  }
  const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket: B, Key: "mp", UploadId, MultipartUpload: { Parts: parts } }));
  assert.match(done.ETag, /-3"$/);
  const got = await s3.send(new GetObjectCommand({ Bucket: B, Key: "mp" }));
  assert.equal(await got.Body.transformToString(), "aaaaabbbbbc");
  const up2 = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: "mp2" }));
  await s3.send(new AbortMultipartUploadCommand({ Bucket: B, Key: "mp2", UploadId: up2.UploadId }));
  await rejectsWith(s3.send(new UploadPartCommand({ Bucket: B, Key: "mp2", UploadId: up2.UploadId, PartNumber: 1, Body: "x" })), "NoSuchUpload", 404);
});
await check("s3 bad signature -> SignatureDoesNotMatch 403; SlowDown 503", async () => {
  const bad = new S3Client({ ...base, forcePathStyle: true, credentials: badCredentials });
  await rejectsWith(bad.send(new ListObjectsV2Command({ Bucket: B })), "SignatureDoesNotMatch", 403);
  const slow = withFault(new S3Client({ ...base, forcePathStyle: true }), "throttle");
  await rejectsWith(slow.send(new ListObjectsV2Command({ Bucket: B })), "SlowDown", 503);
});

// ---- Bedrock Runtime ----------------------------------------------------------
const requestHandler = new NodeHttpHandler();
const bedrock = new BedrockRuntimeClient({ ...base, requestHandler });
const MODEL = "anthropic.claude-3-5-sonnet-20240620-v1:0";
await check("bedrock Converse text (SigV4, ':' in model id)", async () => {
  const out = await bedrock.send(new ConverseCommand({
    modelId: MODEL, system: [{ text: "JSON only" }], inferenceConfig: { maxTokens: 200, temperature: 0 },
    messages: [{ role: "user", content: [{ text: 'Profile it {"weir_test_reply": {"summary": "ok"}}' }] }],
  }));
  assert.deepEqual(JSON.parse(out.output.message.content[0].text), { summary: "ok" });
  assert.equal(out.stopReason, "end_turn");
  assert.equal(out.usage.totalTokens, out.usage.inputTokens + out.usage.outputTokens);
  assert.ok(out.metrics.latencyMs >= 1);
});
await check("bedrock Converse forced tool -> toolUse", async () => {
  const out = await bedrock.send(new ConverseCommand({
    modelId: MODEL, messages: [{ role: "user", content: [{ text: "Describe x" }] }],
    toolConfig: { tools: [{ toolSpec: { name: "emit", inputSchema: { json: { type: "object" } } } }], toolChoice: { tool: { name: "emit" } } },
  }));
  assert.equal(out.stopReason, "tool_use");
  assert.deepEqual(out.output.message.content[0].toolUse.input, { echo: "Describe x" });
  assert.equal(out.output.message.content[0].toolUse.name, "emit");
});
await check("bedrock InvokeModel (Anthropic Messages)", async () => {
  const out = await bedrock.send(new InvokeModelCommand({
    modelId: MODEL, contentType: "application/json", accept: "application/json",
    body: JSON.stringify({ anthropic_version: "bedrock-2023-05-31", max_tokens: 64, messages: [{ role: "user", content: [{ type: "text", text: "Say ok" }] }] }),
  }));
  const msg = JSON.parse(new TextDecoder().decode(out.body));
  assert.equal(msg.type, "message");
  assert.deepEqual(msg.content, [{ type: "text", text: "echo: Say ok" }]);
  assert.equal(msg.stop_reason, "end_turn");
});
await check("bedrock bad signature / throttling / validation errors", async () => {
  const bad = new BedrockRuntimeClient({ ...base, requestHandler, credentials: badCredentials });
  await rejectsWith(bad.send(new ConverseCommand({ modelId: MODEL, messages: [{ role: "user", content: [{ text: "x" }] }] })), "InvalidSignatureException", 403);
  const thr = withFault(new BedrockRuntimeClient({ ...base, requestHandler }), "throttle");
  await rejectsWith(thr.send(new ConverseCommand({ modelId: MODEL, messages: [{ role: "user", content: [{ text: "x" }] }] })), "ThrottlingException", 429);
  await rejectsWith(bedrock.send(new ConverseCommand({ modelId: MODEL, messages: [] })), "ValidationException", 400);
});
await check("bedrock bearer token (API key mode)", async () => {
  const c = new BedrockRuntimeClient({ endpoint, region: "us-east-1", requestHandler, maxAttempts: 1, token: { token: process.env.BEDROCK_TOKEN }, authSchemePreference: ["httpBearerAuth"] });
  const out = await c.send(new ConverseCommand({ modelId: MODEL, messages: [{ role: "user", content: [{ text: "hi" }] }] }));
  assert.equal(out.output.message.content[0].text, "echo: hi");
});

console.log(`${checks} checks passed${process.exitCode ? ", some FAILED" : ""}`);
