"""The HTTP side: server state, request reading, routing, authentication,
fault injection, the admin endpoints and the request log."""

import base64
import hmac
import json
import re
import socket
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler

from .athena import athena_handle
from .common import (ApiError, Resp, gemini_error, http_time, json_error, json_resp,
                     openai_error, rest_json_error, s3_error, service_error)
from .glue import glue_handle
from .llm import bad_llm_input, bedrock_converse, bedrock_invoke, gemini_generate, openai_chat
from .s3 import s3_handle, s3_operation
from .sigv4 import SigError, sig_error_response, verify_sigv4

MAX_BODY = 256 * 1024 * 1024
SECRET_HEADERS = {"x-amz-security-token", "x-api-key", "api-key", "x-goog-api-key", "cookie",
                  "proxy-authorization"}
SECRET_QUERY = {"x-amz-signature", "x-amz-credential", "x-amz-security-token", "key"}


class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.log = []
        self.seq = 0
        self.fault_queue = []        # admin faults: dicts service/operation/fault/count
        self.fault_counts = {}       # x-weir-fault header value -> remaining
        self.queries = {}            # athena QueryExecutionId -> Query
        self.tokens = {}             # athena ClientRequestToken -> QueryExecutionId
        self.uploads = {}            # s3 UploadId -> dict
        self.athena_polls = args.athena_polls
        self.log_file = open(args.log, "a", encoding="utf-8") if args.log else None
        self.last_request = time.time()
        self.port = 0

    def now(self):
        return time.time() + self.args.clock_skew

    def add_log(self, entry):
        with self.lock:
            self.seq += 1
            entry["seq"] = self.seq
            self.log.append(entry)
            if self.log_file:
                self.log_file.write(json.dumps(entry) + "\n")
                self.log_file.flush()

    def reset(self):
        with self.lock:
            self.log.clear()
            self.fault_queue.clear()
            self.fault_counts.clear()
            self.queries.clear()
            self.tokens.clear()
            self.uploads.clear()
            self.catalog.created.clear()
            self.athena_polls = self.args.athena_polls


FAULT_RE = re.compile(r"^(throttle|toomany|expired|truncate|drop|redirect|slow|stall|[45]\d\d)"
                      r"(?::(\d+))?(?::(\d+))?$")
FAULT_HELP = ("use throttle|toomany|expired|truncate|drop|redirect|<4xx/5xx status>[:N] or "
              "slow|stall:<ms>[:N]")


def parse_fault(spec):
    """(kind, ms, count or None for 'always') or raises ValueError."""
    m = FAULT_RE.match(spec.strip().lower())
    if not m:
        raise ValueError("x-weir-fault: unknown fault %r; %s" % (spec[:60], FAULT_HELP))
    kind, a, b = m.group(1), m.group(2), m.group(3)
    if kind in ("slow", "stall"):
        if a is None:
            raise ValueError("x-weir-fault: %s needs milliseconds, e.g. %s:500" % (kind, kind))
        return kind, int(a), (int(b) if b is not None else None)
    if b is not None:
        raise ValueError("x-weir-fault: %r has too many ':' parts; %s" % (spec[:60], FAULT_HELP))
    return kind, 0, (int(a) if a is not None else None)


def take_fault(state, rq, service, operation):
    """The fault to apply to this request: (kind, ms, label) or None."""
    spec = rq.header("x-weir-fault")
    if spec:
        kind, ms, count = parse_fault(spec)
        with state.lock:
            if count is None:
                return kind, ms, spec
            left = state.fault_counts.setdefault(spec, count)
            if left > 0:
                state.fault_counts[spec] = left - 1
                return kind, ms, spec
        return None
    with state.lock:
        for f in state.fault_queue:
            if f["service"] in ("*", service) and f.get("operation") in (None, operation):
                f["count"] -= 1
                if f["count"] <= 0:
                    state.fault_queue.remove(f)
                return f["kind"], f["ms"], "admin:" + f["fault"]
    return None


def fault_response(service, kind):
    if kind == "throttle":
        if service in ("glue", "athena"):
            return json_error("ThrottlingException", "Rate exceeded", 400)
        if service == "s3":
            return s3_error("SlowDown", "Please reduce your request rate.", 503)
        if service == "bedrock":
            return rest_json_error("ThrottlingException", "Too many requests, please wait "
                                   "before trying again.", 429)
        if service == "openai":
            return openai_error("Rate limit reached (injected)", 429, "requests",
                                "rate_limit_exceeded")
        return gemini_error("Resource has been exhausted (injected)", 429)
    if kind == "toomany":
        if service == "athena":
            return json_error("TooManyRequestsException", "Rate exceeded", 400,
                              {"Reason": "CONCURRENT_QUERY_LIMIT_EXCEEDED"})
        return fault_response(service, "throttle")
    if kind == "expired":
        if service in ("glue", "athena"):
            return json_error("ExpiredTokenException", "The security token included in the "
                              "request is expired", 400)
        if service == "s3":
            return s3_error("ExpiredToken", "The provided token has expired.", 400)
        if service == "bedrock":
            return rest_json_error("ExpiredTokenException", "The security token included in "
                                   "the request is expired", 403)
        if service == "openai":
            return openai_error("Incorrect API key provided (expired, injected)", 401,
                                "invalid_request_error", "invalid_api_key")
        return gemini_error("API key expired. Please renew the API key.", 401)
    status = int(kind)
    if service == "glue":
        code = {500: "InternalServiceException", 503: "ServiceUnavailableException"}.get(
            status, "InternalServiceException" if status >= 500 else "InvalidInputException")
        return json_error(code, "injected HTTP %d" % status, status)
    if service == "athena":
        code = {500: "InternalServerException", 503: "ServiceUnavailableException"}.get(
            status, "InternalServerException" if status >= 500 else "InvalidRequestException")
        return json_error(code, "injected HTTP %d" % status, status)
    if service == "s3":
        code = {500: "InternalError", 503: "ServiceUnavailable", 502: "BadGateway",
                504: "GatewayTimeout"}.get(status, "InternalError" if status >= 500 else
                                           "InvalidRequest")
        return s3_error(code, "injected HTTP %d" % status, status)
    if service == "bedrock":
        code = {500: "InternalServerException", 503: "ServiceUnavailableException",
                429: "ThrottlingException", 408: "ModelTimeoutException"}.get(
            status, "InternalServerException" if status >= 500 else "ValidationException")
        return rest_json_error(code, "injected HTTP %d" % status, status)
    if service == "openai":
        return openai_error("injected HTTP %d" % status, status,
                            "server_error" if status >= 500 else "invalid_request_error")
    return gemini_error("injected HTTP %d" % status, status)


BEDROCK_RE = re.compile(r"^/model/([^/]+)/(converse|invoke)$")
GEMINI_RE = re.compile(r"^/v1(?:beta)?/models/([^/:]+):generateContent$")


class Req:
    def __init__(self, handler):
        self.handler = handler
        self.method = handler.command
        path = handler.path
        if path.startswith("http://") or path.startswith("https://"):
            path = "/" + path.split("/", 3)[3] if path.count("/") >= 3 else "/"
        self.raw_path, _, self.raw_query = path.partition("?")
        self.query_pairs = [(urllib.parse.unquote(k), urllib.parse.unquote(v))
                            for k, _, v in (p.partition("=") for p in self.raw_query.split("&")
                                            if p)]
        self.query = dict(self.query_pairs)
        self.raw_body = b""
        self.body = b""

    def header(self, name):
        vals = self.handler.headers.get_all(name)
        if not vals:
            return None
        return ",".join(v.strip() for v in vals)

    def read_body(self):
        try:
            self._read_body()
        except ValueError:
            raise ApiError(400, "IncompleteBody", "the request body framing is invalid "
                           "(Content-Length, chunked or aws-chunked sizes)")

    def _read_body(self):
        h = self.handler
        te = (self.header("transfer-encoding") or "").lower()
        if "chunked" in te:
            chunks = []
            total = 0
            while True:
                line = h.rfile.readline(1024)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while h.rfile.readline(8192).strip():
                        pass
                    break
                total += size
                if total > MAX_BODY:
                    raise ApiError(413, "EntityTooLarge", "request body too large")
                chunks.append(h.rfile.read(size))
                h.rfile.readline(8)
            self.raw_body = b"".join(chunks)
        else:
            n = int(self.header("content-length") or 0)
            if n < 0 or n > MAX_BODY:
                raise ApiError(413, "EntityTooLarge", "request body too large")
            self.raw_body = h.rfile.read(n) if n else b""
        self.body = self.raw_body
        sha = self.header("x-amz-content-sha256") or ""
        if sha.startswith("STREAMING-") or "aws-chunked" in (self.header("content-encoding") or ""):
            self.body = decode_aws_chunked(self.raw_body)


def decode_aws_chunked(data):
    out, pos = [], 0
    while True:
        eol = data.find(b"\r\n", pos)
        if eol < 0:
            raise ApiError(400, "IncompleteBody", "aws-chunked body ends inside a chunk header")
        size = int(data[pos:eol].split(b";")[0].strip() or b"0", 16)
        pos = eol + 2
        if size == 0:
            return b"".join(out)
        out.append(data[pos:pos + size])
        pos += size + 2


def redact_headers(handler):
    out = {}
    for k, v in handler.headers.items():
        lk = k.lower()
        if lk == "authorization":
            continue
        out[lk] = "[redacted]" if lk in SECRET_HEADERS else v
    return out


def redact_query(pairs):
    return "&".join("%s=%s" % (urllib.parse.quote(k, safe=""),
                               "[redacted]" if k.lower() in SECRET_QUERY else
                               urllib.parse.quote(v, safe=""))
                    for k, v in pairs)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "weir-aws-server/1"
    timeout = 120

    def log_message(self, fmt, *a):  # quiet: the request log is at /__weir/log
        pass

    def date_time_string(self, timestamp=None):
        return http_time(self.server.state.now() if timestamp is None else timestamp)

    def do_GET(self):
        self.dispatch()

    do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = do_GET

    def dispatch(self):
        state = self.server.state
        state.last_request = time.time()
        rq = Req(self)
        entry = {"time": round(time.time(), 3), "method": rq.method, "path": rq.raw_path,
                 "query": redact_query(rq.query_pairs), "service": None, "operation": None,
                 "status": None, "signature_ok": None, "fault": None,
                 "headers": redact_headers(self)}
        service, op, fault = None, None, None
        try:
            rq.read_body()
            service, op = route(rq)
            entry["service"], entry["operation"] = service, op
            if service not in ("admin", "s3") and rq.body:
                entry["body"] = rq.body[:16384].decode("utf-8", errors="replace")
            elif service == "s3":
                entry["body_size"] = len(rq.body)
            if service == "admin":
                resp = admin(state, rq)
            else:
                resp = authenticate(state, rq, service, entry)
                if resp is None:
                    fault = take_fault(state, rq, service, op)
                    if fault:
                        entry["fault"] = fault[2]
                    resp = serve(state, rq, service, op, fault)
        except ApiError as e:
            resp = service_error(service or "glue", e.status, e.code, e.message, e.extra)
        except ValueError as e:  # bad x-weir-fault
            resp = service_error(service or "glue", 400, "InvalidFaultSpec", str(e))
        except Exception as e:
            import traceback
            traceback.print_exc(file=sys.stderr)
            resp = service_error(service or "glue", 500, "InternalFailure",
                                 "aws_server bug: %s: %s" % (type(e).__name__, e))
        kind = fault[0] if fault else None
        entry["status"] = resp.status if kind != "drop" else None
        if resp.status >= 400:
            entry["error"] = resp.headers and dict(resp.headers).get("x-amzn-ErrorType") or \
                _s3_code(resp)
        if service != "admin":
            state.add_log(entry)
        self.send(rq, service, resp, fault)

    def send(self, rq, service, resp, fault):
        kind, ms = (fault[0], fault[1]) if fault else (None, 0)
        if kind == "drop":
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        body = resp.body
        rid = str(uuid.uuid4())
        self.send_response(resp.status)
        if service == "s3":
            self.send_header("x-amz-request-id", rid.replace("-", "")[:16].upper())
            self.send_header("x-amz-id-2", base64.b64encode(rid.encode()).decode())
        else:
            self.send_header("x-amzn-RequestId", rid)
        for k, v in resp.headers:
            self.send_header(k, v)
        length = getattr(resp, "head_length", None)
        if length is None:
            length = len(body)
        if kind == "truncate":
            self.send_header("Content-Length", str(length + max(16, length)))
            self.send_header("Connection", "close")
            self.close_connection = True
        elif resp.status not in (204, 304) or length:
            self.send_header("Content-Length", str(length))
        self.end_headers()
        if rq.method == "HEAD" or resp.status in (204, 304):
            return
        if kind == "stall":
            half = len(body) // 2
            self.wfile.write(body[:half])
            self.wfile.flush()
            time.sleep(ms / 1000.0)
            self.wfile.write(body[half:])
        else:
            self.wfile.write(body)
        self.wfile.flush()


def _s3_code(resp):
    m = re.search(rb"<Code>([^<]+)</Code>", resp.body or b"")
    if m:
        return m.group(1).decode()
    m = re.search(rb'"__type":"([^"]+)"', resp.body or b"")
    return m.group(1).decode() if m else None


def route(rq):
    p = rq.raw_path
    if p.startswith("/__weir/"):
        return "admin", p[len("/__weir/"):]
    if p == "/v1/chat/completions":
        return "openai", "ChatCompletions"
    if GEMINI_RE.match(p):
        return "gemini", "GenerateContent"
    m = BEDROCK_RE.match(p)
    if m:
        return "bedrock", "Converse" if m.group(2) == "converse" else "InvokeModel"
    target = rq.header("x-amz-target") or ""
    if target.startswith("AWSGlue."):
        return "glue", target[len("AWSGlue."):]
    if target.startswith("AmazonAthena."):
        return "athena", target[len("AmazonAthena."):]
    m = re.search(r"Credential=[^/,]*/[^/,]*/[^/,]*/([^/,]*)/", rq.header("authorization") or "")
    if m and m.group(1) in ("glue", "athena"):
        raise ApiError(400, "UnknownOperationException",
                       "X-Amz-Target is missing or names no %s operation" % m.group(1))
    return "s3", s3_operation(rq)


def authenticate(state, rq, service, entry):
    """None when the caller may proceed, else the error response."""
    args = state.args
    if service == "openai":
        entry["signature_ok"] = None
        if args.api_key is None:
            return None
        authz = rq.header("authorization") or ""
        got = authz[7:] if authz.startswith("Bearer ") else None
        if got is None or not hmac.compare_digest(got.encode(), args.api_key.encode()):
            return openai_error("Incorrect API key provided." if got else
                                "You didn't provide an API key.", 401,
                                "invalid_request_error", "invalid_api_key")
        return None
    if service == "gemini":
        if args.api_key is None:
            return None
        got = rq.header("x-goog-api-key") or rq.query.get("key")
        if got is None:
            return gemini_error("Method doesn't allow unregistered callers. Please use an API "
                                "key.", 403)
        if not hmac.compare_digest(got.encode(), args.api_key.encode()):
            return gemini_error("API key not valid. Please pass a valid API key.", 400)
        return None
    authz = rq.header("authorization") or ""
    if service == "bedrock" and authz.startswith("Bearer "):
        ok = args.bedrock_token is not None and hmac.compare_digest(
            authz[7:].encode(), args.bedrock_token.encode())
        entry["auth"] = "bearer"
        if not ok:
            return rest_json_error("UnrecognizedClientException", "Invalid API key: the bearer "
                                   "token is not the one this server accepts", 403)
        return None
    entry["auth"] = "sigv4"
    try:
        verify_sigv4(state, rq, service)
    except SigError as e:
        entry["signature_ok"] = False
        entry["sig_error"] = e.message
        if e.canonical:
            entry["canonical_request"] = e.canonical
            sys.stderr.write("aws_server: %s %s: %s\ncanonical request computed here:\n%s\n" %
                             (rq.method, rq.raw_path, e.message, e.canonical))
        return sig_error_response(service, e)
    entry["signature_ok"] = True
    return None


def serve(state, rq, service, op, fault):
    if fault:
        kind, ms, _ = fault
        if kind == "slow":
            time.sleep(ms / 1000.0)
        elif kind == "redirect":
            return Resp(307, b"", headers=[
                ("Location", "http://localhost:%d%s%s" % (state.port, rq.raw_path,
                                                           "?" + rq.raw_query if rq.raw_query
                                                           else ""))])
        elif kind not in ("truncate", "drop", "stall"):
            return fault_response(service, kind)
    if service == "s3":
        return s3_handle(state, rq, op)
    try:
        body = json.loads(rq.body or b"{}")
    except ValueError as e:
        if service in ("glue", "athena"):
            raise ApiError(400, "SerializationException", "request body is not JSON: %s" % e)
        bad_llm_input(service, "request body is not valid JSON: %s" % e)
    if not isinstance(body, dict):
        raise ApiError(400, "SerializationException" if service in ("glue", "athena")
                       else "ValidationException", "request body must be a JSON object")
    if service == "glue":
        return json_resp(glue_handle(state, op, body))
    if service == "athena":
        return json_resp(athena_handle(state, op, body))
    if service == "bedrock":
        model = urllib.parse.unquote(BEDROCK_RE.match(rq.raw_path).group(1))
        out = bedrock_converse(model, body) if op == "Converse" else bedrock_invoke(model, body)
        return Resp(200, json.dumps(out), "application/json")
    if service == "openai":
        return Resp(200, json.dumps(openai_chat(body)), "application/json")
    model = GEMINI_RE.match(rq.raw_path).group(1)
    return Resp(200, json.dumps(gemini_generate(model, body)), "application/json")


def admin(state, rq):
    what = rq.raw_path[len("/__weir/"):]
    if what == "health" and rq.method == "GET":
        return Resp(200, '{"ok": true}', "application/json")
    if what == "log" and rq.method == "GET":
        with state.lock:
            return Resp(200, json.dumps({"requests": list(state.log)}), "application/json")
    if what == "reset" and rq.method == "POST":
        state.reset()
        return Resp(200, '{"ok": true}', "application/json")
    if what == "faults" and rq.method == "GET":
        with state.lock:
            return Resp(200, json.dumps({"faults": list(state.fault_queue)}), "application/json")
    if what in ("faults", "config") and rq.method == "POST":
        try:
            body = json.loads(rq.body or b"")
        except ValueError as e:
            raise ApiError(400, "InvalidAdminRequest", "/__weir/%s: body is not JSON: %s" %
                           (what, e))
        if not isinstance(body, dict):
            raise ApiError(400, "InvalidAdminRequest", "/__weir/%s: body must be an object" % what)
        if what == "config":
            n = body.get("athena_polls")
            if not isinstance(n, int) or isinstance(n, bool) or n < 0 or set(body) != {
                    "athena_polls"}:
                raise ApiError(400, "InvalidAdminRequest", '/__weir/config: expected '
                               '{"athena_polls": <integer >= 0>}')
            state.athena_polls = n
            return Resp(200, '{"ok": true}', "application/json")
        svc = body.get("service")
        if svc not in ("glue", "athena", "s3", "bedrock", "openai", "gemini", "*"):
            raise ApiError(400, "InvalidAdminRequest", "/__weir/faults: service must be glue, "
                           "athena, s3, bedrock, openai, gemini or *, not %r" % (svc,))
        spec = body.get("fault")
        if not isinstance(spec, str):
            raise ApiError(400, "InvalidAdminRequest", "/__weir/faults: fault is required, e.g. "
                           '"throttle" or "slow:500"')
        try:
            kind, ms, _ = parse_fault(spec)
        except ValueError as e:
            raise ApiError(400, "InvalidAdminRequest", "/__weir/faults: %s" %
                           str(e).replace("x-weir-fault: ", ""))
        count = body.get("count", 1)
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise ApiError(400, "InvalidAdminRequest", "/__weir/faults: count must be an "
                           "integer >= 1")
        op = body.get("operation")
        if op is not None and not isinstance(op, str):
            raise ApiError(400, "InvalidAdminRequest", "/__weir/faults: operation must be a "
                           "string")
        with state.lock:
            state.fault_queue.append({"service": svc, "operation": op, "fault": spec,
                                      "kind": kind, "ms": ms, "count": count})
        return Resp(200, '{"ok": true}', "application/json")
    raise ApiError(404, "NotFound", "unknown admin endpoint %s %s; see tests/aws-server/README.md"
                   % (rq.method, rq.raw_path))
