#!/usr/bin/env python3
"""weir's offline AWS / LLM imitation server for tests.

Glue Data Catalog, Athena, S3, Bedrock Runtime, OpenAI chat completions and
Gemini generateContent on one 127.0.0.1 port. Every AWS request's SigV4
signature is verified with botocore (independent of weir's C signer). See
README.md next to this file for the options, the imitated behaviour and the
fault-injection interface.

Standard library + python3-botocore (+ python3-yaml for YAML table files).
"""

import argparse
import base64
import csv
import datetime
import email.utils
import hashlib
import hmac
import io
import json
import math
import os
import re
import shutil
import signal
import socket
import sqlite3
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
import xml.etree.ElementTree as ET
from decimal import ROUND_HALF_UP, Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape as _xml_escape

from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.compat import HTTPHeaders
from botocore.credentials import Credentials

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.environ.get("WEIR_SOURCE_DIR") or os.path.dirname(os.path.dirname(HERE))

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
MAX_BODY = 256 * 1024 * 1024
SKEW_LIMIT = 15 * 60
CATALOG_ID = "123456789012"
AMZ_DATE_RE = re.compile(r"^(\d{8})T\d{6}Z$")
NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_\-]*$")
BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")
SECRET_HEADERS = {"x-amz-security-token", "x-api-key", "api-key", "x-goog-api-key", "cookie",
                  "proxy-authorization"}
SECRET_QUERY = {"x-amz-signature", "x-amz-credential", "x-amz-security-token", "key"}


class ApiError(Exception):
    """An error answer in the shape of the service that raised it."""

    def __init__(self, status, code, message, **extra):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra


class Resp:
    def __init__(self, status=200, body=b"", ctype=None, headers=None):
        self.status = status
        self.body = body if isinstance(body, bytes) else body.encode("utf-8")
        self.headers = list(headers or [])
        if ctype:
            self.headers.append(("Content-Type", ctype))


def json_resp(obj, status=200, ctype="application/x-amz-json-1.1"):
    return Resp(status, json.dumps(obj, separators=(",", ":")), ctype)


def xml_esc(s):
    return _xml_escape(str(s), {'"': "&quot;"})


def b64tok(obj):
    return base64.urlsafe_b64encode(json.dumps(obj, separators=(",", ":")).encode()).decode()


def untok(tok):
    try:
        return json.loads(base64.urlsafe_b64decode(tok.encode()))
    except (ValueError, TypeError, UnicodeError):
        return None


# ---------------------------------------------------------------------------
# Server state
# ---------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------
# SigV4 verification (botocore)
# ---------------------------------------------------------------------------

class _Exact:
    """Sign exactly the headers put in the request (botocore would drop a few
    it never signs itself, e.g. user-agent, even when a client signed them)."""

    def headers_to_sign(self, request):
        hm = HTTPHeaders()
        for name, value in request.headers.items():
            hm[name.lower()] = value
        return hm


class ExactSigV4(_Exact, SigV4Auth):
    pass


class ExactS3SigV4(_Exact, S3SigV4Auth):
    pass


class ExactS3Presigned(ExactS3SigV4):
    def payload(self, request):
        return "UNSIGNED-PAYLOAD"


def verify_presigned(state, rq, route_service):
    """Query-string SigV4 (presigned URL); raises SigError."""
    args = state.args
    q = rq.query
    if q.get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256":
        raise SigError("malformed", "X-Amz-Algorithm must be AWS4-HMAC-SHA256")
    for k in ("X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders",
              "X-Amz-Signature"):
        if k not in q:
            raise SigError("malformed", "Query-string authentication requires the %s parameter"
                           % k)
    cred = q["X-Amz-Credential"].split("/")
    if len(cred) != 5 or cred[4] != "aws4_request":
        raise SigError("malformed", "X-Amz-Credential must be <AKID>/<date>/<region>/<service>/"
                       "aws4_request")
    if cred[0] != args.access_key:
        raise SigError("unknown_key", "The security token included in the request is invalid.")
    if cred[3] != route_service:
        raise SigError("scope", "Credential should be scoped to correct service: '%s'." %
                       route_service)
    if cred[2] != args.region:
        raise SigError("region", "Credential should be scoped to a valid region, not '%s'."
                       % cred[2][:40])
    amz_date = q["X-Amz-Date"]
    if not AMZ_DATE_RE.match(amz_date) or amz_date[:8] != cred[1]:
        raise SigError("malformed", "X-Amz-Date must be YYYYMMDD'T'HHMMSS'Z' and match the "
                       "credential scope date")
    try:
        expires = int(q["X-Amz-Expires"])
    except ValueError:
        expires = -1
    if not 1 <= expires <= 604800:
        raise SigError("malformed", "X-Amz-Expires must be 1..604800 seconds")
    t = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()
    if state.now() > t + expires:
        raise SigError("expired", "Request has expired")
    if t > state.now() + SKEW_LIMIT:
        raise SigError("skew", "Signature not yet current: %s" % amz_date)
    token = q.get("X-Amz-Security-Token")
    if (args.session_token or token) and not (
            token and args.session_token and hmac.compare_digest(token.encode(),
                                                                 args.session_token.encode())):
        raise SigError("token", "The security token included in the request is invalid.")
    signed = q["X-Amz-SignedHeaders"].split(";")
    if "host" not in signed:
        raise SigError("mismatch", "'host' must be a signed header")
    hdrs = HTTPHeaders()
    for h in signed:
        vals = rq.handler.headers.get_all(h)
        if not vals:
            raise SigError("mismatch", "signed header '%s' is not in the request" % h)
        for v in vals:
            hdrs[h] = v
    pairs = [(k, v) for k, v in rq.query_pairs if k != "X-Amz-Signature"]
    req = AWSRequest(method=rq.method, url="http://%s%s" % (rq.header("host"), rq.raw_path),
                     data=rq.body, params=pairs)
    req.headers = hdrs
    req.context["timestamp"] = amz_date
    creds = Credentials(args.access_key, args.secret_key, args.session_token)
    signer = (ExactS3Presigned if route_service == "s3" else ExactSigV4)(creds, cred[3],
                                                                        args.region)
    canonical = signer.canonical_request(req)
    expect = signer.signature(signer.string_to_sign(req, canonical), req)
    if not hmac.compare_digest(expect, q["X-Amz-Signature"]):
        raise SigError("mismatch", "The request signature we calculated does not match the "
                       "signature you provided. Check your key and signing method.",
                       canonical.replace(token, "[redacted]") if token else canonical)


AUTH_RE = re.compile(r"^AWS4-HMAC-SHA256\s+(.*)$", re.S)


def parse_authorization(value):
    """{'akid','date','region','service','signed','signature'} or raises ValueError."""
    m = AUTH_RE.match(value or "")
    if not m:
        raise ValueError("Authorization must start with AWS4-HMAC-SHA256")
    parts = {}
    for item in m.group(1).split(","):
        item = item.strip()
        if not item:
            continue
        k, eq, v = item.partition("=")
        if not eq:
            raise ValueError("Authorization component %r is not key=value" % k[:40])
        parts[k.strip()] = v.strip()
    for k in ("Credential", "SignedHeaders", "Signature"):
        if k not in parts:
            raise ValueError("Authorization header requires '%s' parameter" % k)
    cred = parts["Credential"].split("/")
    if len(cred) != 5 or cred[4] != "aws4_request":
        raise ValueError("Credential must be <AKID>/<date>/<region>/<service>/aws4_request")
    if not re.fullmatch(r"[0-9a-f]{64}", parts["Signature"]):
        raise ValueError("Signature must be 64 lowercase hex digits")
    return {"akid": cred[0], "date": cred[1], "region": cred[2], "service": cred[3],
            "signed": parts["SignedHeaders"].split(";"), "signature": parts["Signature"]}


class SigError(Exception):
    def __init__(self, kind, message, canonical=None):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.canonical = canonical


def verify_sigv4(state, rq, route_service):
    """Raises SigError; returns None when the request is correctly signed."""
    args = state.args
    authz = rq.header("authorization")
    if authz is None and "X-Amz-Algorithm" in rq.query:
        return verify_presigned(state, rq, route_service)
    if authz is None:
        raise SigError("missing", "Missing Authentication Token")
    try:
        a = parse_authorization(authz)
    except ValueError as e:
        raise SigError("malformed", str(e))
    if a["akid"] != args.access_key:
        raise SigError("unknown_key", "The security token included in the request is invalid.")
    if a["service"] != route_service:
        raise SigError("scope", "Credential should be scoped to correct service: '%s'." %
                       route_service)
    if a["region"] != args.region:
        raise SigError("region", "Credential should be scoped to a valid region, not '%s'. "
                       "This server accepts '%s'." % (a["region"][:40], args.region))
    signed = a["signed"]
    if signed != sorted(signed) or any(h != h.lower() or not h for h in signed):
        raise SigError("mismatch", "SignedHeaders must be lowercase, sorted and non-empty")
    for need in ("host", "x-amz-date"):
        if need not in signed:
            raise SigError("mismatch", "'%s' must be a signed header" % need)
    amz_date = rq.header("x-amz-date")
    if not amz_date or not AMZ_DATE_RE.match(amz_date):
        raise SigError("malformed", "X-Amz-Date must be present as YYYYMMDD'T'HHMMSS'Z'")
    if amz_date[:8] != a["date"]:
        raise SigError("malformed", "Date in Credential scope does not match YYYYMMDD from "
                       "X-Amz-Date")
    t = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()
    now = state.now()
    if abs(now - t) > SKEW_LIMIT:
        server = datetime.datetime.fromtimestamp(now, datetime.timezone.utc).strftime(
            "%Y%m%dT%H%M%SZ")
        raise SigError("skew", "Signature expired: %s is now earlier than %s (%s - 15 min.)"
                       % (amz_date, server, server) if t < now else
                       "Signature not yet current: %s is still later than %s (%s + 15 min.)"
                       % (amz_date, server, server))
    token = rq.header("x-amz-security-token")
    if args.session_token:
        if token is None or "x-amz-security-token" not in signed:
            raise SigError("token", "The security token included in the request is invalid: "
                           "x-amz-security-token must be sent and signed")
        if not hmac.compare_digest(token.encode(), args.session_token.encode()):
            raise SigError("token", "The security token included in the request is invalid.")
    elif token is not None:
        raise SigError("token", "The security token included in the request is invalid "
                       "(this server runs with permanent credentials)")
    is_s3 = route_service == "s3"
    sha_hdr = rq.header("x-amz-content-sha256")
    if is_s3:
        if sha_hdr is None:
            raise SigError("sha_missing",
                           "Missing required header for this request: x-amz-content-sha256")
        if "x-amz-content-sha256" not in signed:
            raise SigError("mismatch", "x-amz-content-sha256 must be a signed header")
    # Rebuild the request as received: raw path, decoded query, signed headers only.
    present = {}
    for name, value in rq.handler.headers.items():
        present.setdefault(name.lower(), []).append(value)
    hdrs = HTTPHeaders()
    for h in signed:
        if h not in present:
            raise SigError("mismatch", "signed header '%s' is not in the request" % h)
        for v in present[h]:
            hdrs[h] = v
    req = AWSRequest(method=rq.method, url="http://%s%s" % (rq.header("host"), rq.raw_path),
                     data=rq.body, params=rq.query_pairs)
    req.headers = hdrs
    req.context["timestamp"] = amz_date
    creds = Credentials(args.access_key, args.secret_key, args.session_token)
    signer = (ExactS3SigV4 if is_s3 else ExactSigV4)(creds, a["service"], args.region)
    canonical = signer.canonical_request(req)
    sts = signer.string_to_sign(req, canonical)
    expect = signer.signature(sts, req)
    redacted = canonical
    if token:
        redacted = redacted.replace(token, "[redacted]")
    if not hmac.compare_digest(expect, a["signature"]):
        raise SigError("mismatch", "The request signature we calculated does not match the "
                       "signature you provided. Check your AWS Secret Access Key and signing "
                       "method.", redacted)
    if sha_hdr is not None and not sha_hdr.startswith("STREAMING-") and \
            sha_hdr != "UNSIGNED-PAYLOAD":
        actual = hashlib.sha256(rq.raw_body).hexdigest()
        if sha_hdr != actual:
            raise SigError("sha_mismatch", "The provided 'x-amz-content-sha256' header does "
                           "not match what was computed.", redacted)
    elif sha_hdr == "UNSIGNED-PAYLOAD" and not is_s3:
        raise SigError("mismatch", "UNSIGNED-PAYLOAD is only accepted by S3", redacted)


# ---------------------------------------------------------------------------
# Errors in each service's shape
# ---------------------------------------------------------------------------

def json_error(code, message, status, extra=None):
    body = {"__type": code, "Message": message}
    if extra:
        body.update(extra)
    r = json_resp(body, status)
    r.headers.append(("x-amzn-ErrorType", code))
    return r


def rest_json_error(code, message, status):
    r = Resp(status, json.dumps({"message": message}), "application/json")
    r.headers.append(("x-amzn-ErrorType", code))
    return r


def s3_error(code, message, status, **extra):
    rid = uuid.uuid4().hex[:16].upper()
    parts = ["<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s</Code>"
             "<Message>%s</Message>" % (xml_esc(code), xml_esc(message))]
    for k, v in extra.items():
        parts.append("<%s>%s</%s>" % (k, xml_esc(v), k))
    parts.append("<RequestId>%s</RequestId><HostId>weir-aws-server</HostId></Error>" % rid)
    return Resp(status, "".join(parts), "application/xml")


def openai_error(message, status, etype, code=None):
    return Resp(status, json.dumps({"error": {"message": message, "type": etype, "param": None,
                                              "code": code}}), "application/json")


GEMINI_STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
                 404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL",
                 503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED"}


def gemini_error(message, status):
    return Resp(status, json.dumps({"error": {"code": status, "message": message,
                                              "status": GEMINI_STATUS.get(status, "UNKNOWN")}}),
                "application/json")


def service_error(service, status, code, message, extra=None):
    if service in ("glue", "athena"):
        return json_error(code, message, status, extra)
    if service == "bedrock":
        return rest_json_error(code, message, status)
    if service == "s3":
        return s3_error(code, message, status, **(extra or {}))
    if service == "openai":
        return openai_error(message, status, code)
    if service == "gemini":
        return gemini_error(message, status)
    return json_error(code, message, status, extra)


S3_SIG_ERRORS = {
    "missing": (403, "AccessDenied"), "malformed": (400, "AuthorizationHeaderMalformed"),
    "unknown_key": (403, "InvalidAccessKeyId"), "scope": (400, "AuthorizationHeaderMalformed"),
    "region": (400, "AuthorizationHeaderMalformed"), "skew": (403, "RequestTimeTooSkewed"),
    "token": (403, "InvalidToken"), "mismatch": (403, "SignatureDoesNotMatch"),
    "sha_missing": (400, "InvalidRequest"), "sha_mismatch": (400, "XAmzContentSHA256Mismatch"),
    "expired": (403, "AccessDenied"),
}
JSON_SIG_ERRORS = {
    "missing": (403, "MissingAuthenticationTokenException"),
    "malformed": (403, "IncompleteSignatureException"),
    "unknown_key": (403, "UnrecognizedClientException"),
    "scope": (403, "InvalidSignatureException"), "region": (403, "InvalidSignatureException"),
    "skew": (403, "InvalidSignatureException"), "token": (403, "UnrecognizedClientException"),
    "mismatch": (403, "InvalidSignatureException"),
    "sha_missing": (403, "InvalidSignatureException"),
    "sha_mismatch": (403, "InvalidSignatureException"),
    "expired": (403, "InvalidSignatureException"),
}


def sig_error_response(service, e):
    if service == "s3":
        status, code = S3_SIG_ERRORS[e.kind]
        msg = e.message
        if e.kind == "unknown_key":
            msg = "The AWS Access Key Id you provided does not exist in our records."
        return s3_error(code, msg, status)
    status, code = JSON_SIG_ERRORS[e.kind]
    if service == "bedrock":
        return rest_json_error(code, e.message, status)
    return json_error(code, e.message, status)


# ---------------------------------------------------------------------------
# Faults
# ---------------------------------------------------------------------------

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


def fault_response(state, service, operation, kind):
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
        return fault_response(state, service, operation, "throttle")
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


# ---------------------------------------------------------------------------
# Catalog (weir's local catalog directory) and Glue
# ---------------------------------------------------------------------------

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


def _page(state, items, body, key_max, limit, op, scope):
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
            page, nxt = _page(state, names, body, "MaxResults", 100, op, "")
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
            page, nxt = _page(state, names, body, "MaxResults", 100, op, db)
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
            page, nxt = _page(state, parts, body, "MaxResults", 1000, op, db + "." + name)
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


# ---------------------------------------------------------------------------
# Athena: Trino -> SQLite translation, table loading, execution
# ---------------------------------------------------------------------------

class SqlFail(Exception):
    """A query failure with a Trino-like reason."""


_LIT_RE = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|/\*.*?\*/", re.S)


def _protect(sql):
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


def _restore(sql, saved):
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
        if _hive_base(typ) not in CAST_TYPES:
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
    base = _hive_base(typ)
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


DEFAULT_NULLS = {"", "NA", "NULL", "null", "\\N"}


def _hive_base(typ):
    return re.split(r"[(<]", typ.strip().lower(), maxsplit=1)[0]


def sqlite_affinity(typ):
    b = _hive_base(typ)
    if b in ("bigint", "int", "integer", "smallint", "tinyint", "boolean"):
        return "INTEGER"
    if b in ("double", "float", "real", "decimal"):
        return "REAL"
    return "TEXT"


def convert_value(v, typ):
    """A file value as the SQLite value of Hive type typ (None when it does not parse)."""
    if v is None:
        return None
    b = _hive_base(typ)
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


TRINO_TYPES = {"string": "varchar", "varchar": "varchar", "char": "char", "int": "integer",
               "integer": "integer", "bigint": "bigint", "smallint": "smallint",
               "tinyint": "tinyint", "double": "double", "float": "real", "real": "real",
               "decimal": "decimal", "boolean": "boolean", "date": "date",
               "timestamp": "timestamp", "binary": "varbinary", "array": "array", "map": "map",
               "struct": "row"}
PRECISION = {"varchar": 2147483647, "char": 2147483647, "bigint": 19, "integer": 10,
             "smallint": 5, "tinyint": 3, "double": 17, "real": 7, "boolean": 0, "date": 0,
             "timestamp": 3, "varbinary": 2147483647, "array": 0, "map": 0, "row": 0}


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


def column_type(name, values, declared, hint=None):
    """(trino type, precision, scale) of a result column: the type the select list
    states, else the declared type of a same-named table column, else from the values."""
    dec = hint or declared.get(name.lower())
    nonnull = [v for v in values if v is not None]
    if dec:
        base = TRINO_TYPES.get(_hive_base(dec), "varchar")
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
    protected, saved = _protect(text)
    hints = select_hints(protected)
    sql = _restore(translate_sql(protected, saved), saved).strip().rstrip(";")
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


# ---------------------------------------------------------------------------
# S3
# ---------------------------------------------------------------------------

S3NS = "http://s3.amazonaws.com/doc/2006-03-01/"
META_DIR = ".weir-meta"


def iso_time(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S.000Z")


def http_time(ts):
    return email.utils.formatdate(ts, usegmt=True)


def s3_xml(body):
    return Resp(200, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + body, "application/xml")


class S3Store:
    def __init__(self, root, lock):
        self.root = root
        self.lock = lock

    def bucket_dir(self, b):
        return os.path.join(self.root, b)

    def buckets(self):
        return sorted(d for d in os.listdir(self.root)
                      if BUCKET_RE.match(d) and os.path.isdir(os.path.join(self.root, d)))

    def need_bucket(self, b):
        if not BUCKET_RE.match(b) or not os.path.isdir(self.bucket_dir(b)):
            raise ApiError(404, "NoSuchBucket", "The specified bucket does not exist",
                           BucketName=b)

    @staticmethod
    def check_key(key):
        if not key or len(key.encode()) > 1024:
            raise ApiError(400, "KeyTooLongError" if key else "InvalidArgument",
                           "Object keys must be 1..1024 bytes")
        segs = key.split("/")
        if key.endswith("/") or any(s in ("", ".", "..") for s in segs) or \
                segs[0] == META_DIR or "\x00" in key:
            raise ApiError(400, "InvalidArgument",
                           "This test server cannot store key %r: keys ending in '/' or with "
                           "empty, '.' or '..' segments are not supported" % key[:200])

    def path(self, b, key):
        return os.path.join(self.root, b, *key.split("/"))

    def meta_path(self, b, key):
        return os.path.join(self.root, META_DIR, b, *key.split("/")) + ".json"

    def head(self, b, key):
        """Metadata dict of an existing object or None."""
        p = self.path(b, key)
        if not os.path.isfile(p):
            return None
        st = os.stat(p)
        meta = None
        try:
            with open(self.meta_path(b, key), encoding="utf-8") as fh:
                meta = json.load(fh)
        except (OSError, ValueError):
            pass
        if not meta or meta.get("size") != st.st_size or meta.get("mtime") != st.st_mtime_ns:
            with open(p, "rb") as fh:
                etag = hashlib.md5(fh.read()).hexdigest()
            meta = {"etag": etag, "content_type": "application/octet-stream", "meta": {},
                    "size": st.st_size, "mtime": st.st_mtime_ns}
        meta["last_modified"] = st.st_mtime
        return meta

    def put(self, b, key, data, content_type, usermeta, etag=None):
        p = self.path(b, key)
        d = os.path.dirname(p)
        if os.path.isdir(p):
            raise ApiError(409, "OperationAborted", "Key %r is a prefix of other keys here; this "
                           "test server stores objects as files" % key[:200])
        try:
            os.makedirs(d, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise ApiError(409, "OperationAborted", "A prefix of key %r is an object here; this "
                           "test server stores objects as files" % key[:200])
        tmp = p + ".weir-tmp-" + uuid.uuid4().hex
        with open(tmp, "wb") as fh:
            fh.write(data)
        os.replace(tmp, p)
        st = os.stat(p)
        meta = {"etag": etag or hashlib.md5(data).hexdigest(), "content_type": content_type,
                "meta": usermeta, "size": st.st_size, "mtime": st.st_mtime_ns}
        mp = self.meta_path(b, key)
        os.makedirs(os.path.dirname(mp), exist_ok=True)
        with open(mp, "w", encoding="utf-8") as fh:
            json.dump(meta, fh)
        meta["last_modified"] = st.st_mtime
        return meta

    def delete(self, b, key):
        for p in (self.path(b, key), self.meta_path(b, key)):
            try:
                os.remove(p)
            except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
                pass
        # prune empty folders up to the bucket
        for top in (self.bucket_dir(b), os.path.join(self.root, META_DIR, b)):
            d = os.path.dirname(os.path.join(top, *key.split("/")))
            while os.path.abspath(d) != os.path.abspath(top):
                try:
                    os.rmdir(d)
                except OSError:
                    break
                d = os.path.dirname(d)

    def keys(self, b):
        top = self.bucket_dir(b)
        out = []
        for d, dirs, files in os.walk(top):
            dirs[:] = [x for x in dirs if x != META_DIR]
            for f in files:
                if ".weir-tmp-" in f:
                    continue
                rel = os.path.relpath(os.path.join(d, f), top)
                out.append(rel.replace(os.sep, "/"))
        out.sort()
        return out


def _usermeta(rq):
    return {k.lower()[len("x-amz-meta-"):]: v for k, v in rq.handler.headers.items()
            if k.lower().startswith("x-amz-meta-")}


def _obj_headers(meta):
    h = [("ETag", '"%s"' % meta["etag"]), ("Last-Modified", http_time(meta["last_modified"])),
         ("Accept-Ranges", "bytes"), ("Content-Type", meta.get("content_type") or
                                      "application/octet-stream")]
    for k, v in sorted(meta.get("meta", {}).items()):
        h.append(("x-amz-meta-" + k, v))
    return h


def _etag_match(cond, etag):
    cond = cond.strip()
    if cond == "*":
        return True
    return any(c.strip().strip('"') == etag for c in cond.split(","))


def parse_range(rng, size):
    m = re.fullmatch(r"bytes=(\d*)-(\d*)", rng.strip())
    if not m or (m.group(1) == "" and m.group(2) == ""):
        return None
    a, b = m.group(1), m.group(2)
    if a == "":
        n = int(b)
        if n == 0:
            raise ApiError(416, "InvalidRange", "The requested range is not satisfiable",
                           RangeRequested=rng, ActualObjectSize=str(size))
        return max(0, size - n), size - 1
    start = int(a)
    end = min(int(b), size - 1) if b else size - 1
    if start >= size or (b and int(b) < start):
        raise ApiError(416, "InvalidRange", "The requested range is not satisfiable",
                       RangeRequested=rng, ActualObjectSize=str(size))
    return start, end


def s3_split(rq):
    """(bucket or None, key or None) from the Host header and the path."""
    host = (rq.header("host") or "").split(":")[0].lower()
    path = rq.raw_path
    bucket = None
    if not re.fullmatch(r"[\d.]+|localhost|\[.*\]", host):
        m = re.match(r"^(.+?)\.s3[.\-]", host)
        if m:
            bucket = m.group(1)
        elif host.endswith(".localhost"):
            bucket = host[:-len(".localhost")]
    if bucket is None:
        rest = path.lstrip("/")
        if not rest:
            return None, None
        b, _, k = rest.partition("/")
        return urllib.parse.unquote(b), (urllib.parse.unquote(k) if k else None)
    k = path[1:] if path.startswith("/") else path
    return bucket, (urllib.parse.unquote(k) if k else None)


def s3_operation(rq):
    b, k = s3_split(rq)
    q = rq.query
    m = rq.method
    if b is None:
        return "ListBuckets" if m == "GET" else "Unknown"
    if k is None:
        if m == "GET":
            return "ListObjectsV2" if q.get("list-type") == "2" else (
                "GetBucketLocation" if "location" in q else "ListObjects")
        return {"PUT": "CreateBucket", "HEAD": "HeadBucket", "DELETE": "DeleteBucket",
                "POST": "DeleteObjects" if "delete" in q else "Unknown"}.get(m, "Unknown")
    if m == "GET":
        return "GetObject"
    if m == "HEAD":
        return "HeadObject"
    if m == "PUT":
        if "partNumber" in q and "uploadId" in q:
            return "UploadPart"
        return "CopyObject" if rq.header("x-amz-copy-source") else "PutObject"
    if m == "POST":
        if "uploads" in q:
            return "CreateMultipartUpload"
        if "uploadId" in q:
            return "CompleteMultipartUpload"
    if m == "DELETE":
        return "AbortMultipartUpload" if "uploadId" in q else "DeleteObject"
    return "Unknown"


def s3_handle(state, rq, op):
    store = state.s3
    b, key = s3_split(rq)
    q = rq.query
    if op == "ListBuckets":
        items = "".join("<Bucket><Name>%s</Name><CreationDate>%s</CreationDate></Bucket>" %
                        (xml_esc(n), iso_time(os.path.getmtime(store.bucket_dir(n))))
                        for n in store.buckets())
        return s3_xml('<ListAllMyBucketsResult xmlns="%s"><Owner><ID>weir</ID><DisplayName>weir'
                      '</DisplayName></Owner><Buckets>%s</Buckets></ListAllMyBucketsResult>'
                      % (S3NS, items))
    if op == "CreateBucket":
        if not BUCKET_RE.match(b):
            raise ApiError(400, "InvalidBucketName", "The specified bucket is not valid.",
                           BucketName=b)
        os.makedirs(store.bucket_dir(b), exist_ok=True)
        return Resp(200, b"", headers=[("Location", "/" + b)])
    store.need_bucket(b)
    if op == "HeadBucket":
        return Resp(200, b"", headers=[("x-amz-bucket-region", state.args.region)])
    if op == "GetBucketLocation":
        return s3_xml('<LocationConstraint xmlns="%s">%s</LocationConstraint>' %
                      (S3NS, "" if state.args.region == "us-east-1" else state.args.region))
    if op == "DeleteBucket":
        if store.keys(b):
            raise ApiError(409, "BucketNotEmpty", "The bucket you tried to delete is not empty",
                           BucketName=b)
        shutil.rmtree(store.bucket_dir(b), ignore_errors=True)
        shutil.rmtree(os.path.join(store.root, META_DIR, b), ignore_errors=True)
        return Resp(204)
    if op in ("ListObjectsV2", "ListObjects"):
        return s3_list(store, b, q, op == "ListObjectsV2")
    if op == "DeleteObjects":
        return s3_delete_objects(store, b, rq.body)
    if op == "Unknown":
        raise ApiError(501, "NotImplemented", "This S3 request (%s %s) is not implemented by "
                       "this test server" % (rq.method, rq.raw_path[:200]))
    store.check_key(key)
    if op in ("GetObject", "HeadObject"):
        meta = store.head(b, key)
        if meta is None:
            if op == "HeadObject":
                return Resp(404)
            raise ApiError(404, "NoSuchKey", "The specified key does not exist.", Key=key)
        etag = meta["etag"]
        im, inm = rq.header("if-match"), rq.header("if-none-match")
        if im is not None and not _etag_match(im, etag):
            if op == "HeadObject":
                return Resp(412)
            raise ApiError(412, "PreconditionFailed", "At least one of the pre-conditions you "
                           "specified did not hold", Condition="If-Match")
        if inm is not None and _etag_match(inm, etag):
            return Resp(304, b"", headers=[("ETag", '"%s"' % etag)])
        size = meta["size"]
        headers = _obj_headers(meta)
        rng = rq.header("range")
        span = parse_range(rng, size) if rng else None
        if op == "HeadObject":
            r = Resp(200, b"", headers=headers)
            r.head_length = size
            return r
        with open(store.path(b, key), "rb") as fh:
            data = fh.read()
        if span:
            headers.append(("Content-Range", "bytes %d-%d/%d" % (span[0], span[1], size)))
            return Resp(206, data[span[0]:span[1] + 1], headers=headers)
        return Resp(200, data, headers=headers)
    if op == "DeleteObject":
        store.delete(b, key)
        return Resp(204)
    if op in ("PutObject", "CopyObject"):
        existing = store.head(b, key)
        im, inm = rq.header("if-match"), rq.header("if-none-match")
        if inm is not None and existing is not None and _etag_match(inm, existing["etag"]):
            raise ApiError(412, "PreconditionFailed", "At least one of the pre-conditions you "
                           "specified did not hold", Condition="If-None-Match")
        if im is not None and (existing is None or not _etag_match(im, existing["etag"])):
            if existing is None:
                raise ApiError(404, "NoSuchKey", "The specified key does not exist.", Key=key)
            raise ApiError(412, "PreconditionFailed", "At least one of the pre-conditions you "
                           "specified did not hold", Condition="If-Match")
        if op == "CopyObject":
            src = urllib.parse.unquote(rq.header("x-amz-copy-source").split("?")[0]).lstrip("/")
            sb, _, sk = src.partition("/")
            store.need_bucket(sb)
            store.check_key(sk)
            smeta = store.head(sb, sk)
            if smeta is None:
                raise ApiError(404, "NoSuchKey", "The specified key does not exist.", Key=sk)
            with open(store.path(sb, sk), "rb") as fh:
                data = fh.read()
            replace = (rq.header("x-amz-metadata-directive") or "COPY").upper() == "REPLACE"
            meta = store.put(b, key, data,
                             rq.header("content-type") if replace else smeta["content_type"],
                             _usermeta(rq) if replace else smeta.get("meta", {}))
            return s3_xml('<CopyObjectResult xmlns="%s"><LastModified>%s</LastModified>'
                          '<ETag>&quot;%s&quot;</ETag></CopyObjectResult>' %
                          (S3NS, iso_time(meta["last_modified"]), meta["etag"]))
        md5 = rq.header("content-md5")
        if md5 is not None and base64.b64encode(hashlib.md5(rq.body).digest()).decode() != md5:
            raise ApiError(400, "BadDigest", "The Content-MD5 you specified did not match what "
                           "we received.")
        meta = store.put(b, key, rq.body, rq.header("content-type") or "binary/octet-stream",
                         _usermeta(rq))
        return Resp(200, b"", headers=[("ETag", '"%s"' % meta["etag"])])
    if op == "CreateMultipartUpload":
        uid = base64.urlsafe_b64encode(os.urandom(24)).decode().rstrip("=")
        with state.lock:
            state.uploads[uid] = {"bucket": b, "key": key, "parts": {},
                                  "content_type": rq.header("content-type") or
                                  "binary/octet-stream", "meta": _usermeta(rq)}
        return s3_xml('<InitiateMultipartUploadResult xmlns="%s"><Bucket>%s</Bucket>'
                      '<Key>%s</Key><UploadId>%s</UploadId></InitiateMultipartUploadResult>' %
                      (S3NS, xml_esc(b), xml_esc(key), uid))
    up = state.uploads.get(q.get("uploadId"))
    if up is None or up["bucket"] != b or up["key"] != key:
        raise ApiError(404, "NoSuchUpload", "The specified upload does not exist. The upload ID "
                       "may be invalid, or the upload may have been aborted or completed.",
                       UploadId=q.get("uploadId", ""))
    if op == "UploadPart":
        try:
            n = int(q["partNumber"])
        except ValueError:
            n = 0
        if not 1 <= n <= 10000:
            raise ApiError(400, "InvalidArgument", "Part number must be an integer between 1 "
                           "and 10000, inclusive", ArgumentName="partNumber")
        etag = hashlib.md5(rq.body).hexdigest()
        with state.lock:
            up["parts"][n] = (rq.body, etag)
        return Resp(200, b"", headers=[("ETag", '"%s"' % etag)])
    if op == "AbortMultipartUpload":
        with state.lock:
            state.uploads.pop(q["uploadId"], None)
        return Resp(204)
    if op == "CompleteMultipartUpload":
        try:
            root = ET.fromstring(rq.body)
        except ET.ParseError as e:
            raise ApiError(400, "MalformedXML", "The XML you provided was not well-formed: %s" % e)
        listed = []
        for part in root.iter():
            if part.tag.split("}")[-1] != "Part":
                continue
            num = etag = None
            for ch in part:
                name = ch.tag.split("}")[-1]
                if name == "PartNumber":
                    num = int((ch.text or "0").strip())
                elif name == "ETag":
                    etag = (ch.text or "").strip().strip('"')
            listed.append((num, etag))
        if not listed:
            raise ApiError(400, "MalformedXML", "CompleteMultipartUpload lists no parts")
        nums = [n for n, _ in listed]
        if nums != sorted(nums) or len(set(nums)) != len(nums):
            raise ApiError(400, "InvalidPartOrder", "The list of parts was not in ascending "
                           "order. Parts must be ordered by part number.")
        datas, md5s = [], b""
        for i, (n, etag) in enumerate(listed):
            have = up["parts"].get(n)
            if have is None or have[1] != etag:
                raise ApiError(400, "InvalidPart", "One or more of the specified parts could not "
                               "be found. The part might not have been uploaded, or the "
                               "specified entity tag might not have matched the part's entity "
                               "tag.", PartNumber=str(n), ETag=etag or "")
            if i < len(listed) - 1 and len(have[0]) < state.args.s3_min_part_size:
                raise ApiError(400, "EntityTooSmall", "Your proposed upload is smaller than the "
                               "minimum allowed object size.", PartNumber=str(n),
                               MinSizeAllowed=str(state.args.s3_min_part_size),
                               ProposedSize=str(len(have[0])))
            datas.append(have[0])
            md5s += bytes.fromhex(have[1])
        etag = "%s-%d" % (hashlib.md5(md5s).hexdigest(), len(listed))
        store.put(b, key, b"".join(datas), up["content_type"], up["meta"], etag=etag)
        with state.lock:
            state.uploads.pop(q["uploadId"], None)
        return s3_xml('<CompleteMultipartUploadResult xmlns="%s"><Location>http://%s/%s/%s'
                      '</Location><Bucket>%s</Bucket><Key>%s</Key><ETag>&quot;%s&quot;</ETag>'
                      '</CompleteMultipartUploadResult>' %
                      (S3NS, xml_esc(rq.header("host") or ""), xml_esc(b),
                       xml_esc(urllib.parse.quote(key)), xml_esc(b), xml_esc(key), etag))
    raise ApiError(501, "NotImplemented", "S3 operation %s is not implemented here" % op)


def s3_list(store, b, q, v2):
    prefix = q.get("prefix", "")
    delim = q.get("delimiter", "")
    try:
        max_keys = int(q.get("max-keys", "1000"))
    except ValueError:
        max_keys = -1
    if not 0 <= max_keys:
        raise ApiError(400, "InvalidArgument", "max-keys must be a non-negative integer",
                       ArgumentName="max-keys")
    max_keys = min(max_keys, 1000)
    enc = q.get("encoding-type")
    if enc not in (None, "url"):
        raise ApiError(400, "InvalidArgument", "Invalid Encoding Method specified in Request",
                       ArgumentName="encoding-type")

    def e(s):
        return xml_esc(urllib.parse.quote(s, safe="/") if enc == "url" else s)
    token = q.get("continuation-token")
    start = q.get("start-after", "") if v2 else q.get("marker", "")
    if v2 and token is not None:
        t = untok(token)
        if not isinstance(t, dict) or not isinstance(t.get("k"), str) or t.get("b") != b:
            raise ApiError(400, "InvalidArgument", "The continuation token provided is incorrect",
                           ArgumentName="continuation-token")
        start = t["k"]
    entries = []      # (name, is_prefix)
    truncated = False
    last_cp = None
    for k in store.keys(b):
        if not k.startswith(prefix) or k <= start:
            continue
        if delim:
            i = k.find(delim, len(prefix))
            if i >= 0:
                cp = k[:i + len(delim)]
                if cp == last_cp or cp <= start:
                    continue
                if len(entries) == max_keys:
                    truncated = True
                    break
                entries.append((cp, True))
                last_cp = cp
                continue
        if len(entries) == max_keys:
            truncated = True
            break
        entries.append((k, False))
    parts = ['<ListBucketResult xmlns="%s"><Name>%s</Name><Prefix>%s</Prefix>' %
             (S3NS, xml_esc(b), e(prefix))]
    if v2:
        parts.append("<KeyCount>%d</KeyCount>" % len(entries))
    else:
        parts.append("<Marker>%s</Marker>" % e(start))
    parts.append("<MaxKeys>%d</MaxKeys>" % max_keys)
    if delim:
        parts.append("<Delimiter>%s</Delimiter>" % e(delim))
    if enc:
        parts.append("<EncodingType>url</EncodingType>")
    parts.append("<IsTruncated>%s</IsTruncated>" % ("true" if truncated else "false"))
    if v2:
        if token is not None:
            parts.append("<ContinuationToken>%s</ContinuationToken>" % xml_esc(token))
        if q.get("start-after"):
            parts.append("<StartAfter>%s</StartAfter>" % e(q["start-after"]))
        if truncated:
            parts.append("<NextContinuationToken>%s</NextContinuationToken>" %
                         b64tok({"b": b, "k": entries[-1][0]}))
    elif truncated and delim:
        parts.append("<NextMarker>%s</NextMarker>" % e(entries[-1][0]))
    for name, is_prefix in entries:
        if is_prefix:
            continue
        meta = store.head(b, name)
        if meta is None:
            continue
        owner = ("<Owner><ID>weir</ID><DisplayName>weir</DisplayName></Owner>"
                 if (not v2 or q.get("fetch-owner") == "true") else "")
        parts.append("<Contents><Key>%s</Key><LastModified>%s</LastModified><ETag>&quot;%s&quot;"
                     "</ETag><Size>%d</Size>%s<StorageClass>STANDARD</StorageClass></Contents>" %
                     (e(name), iso_time(meta["last_modified"]), meta["etag"], meta["size"],
                      owner))
    for name, is_prefix in entries:
        if is_prefix:
            parts.append("<CommonPrefixes><Prefix>%s</Prefix></CommonPrefixes>" % e(name))
    parts.append("</ListBucketResult>")
    return s3_xml("".join(parts))


def s3_delete_objects(store, b, body):
    try:
        root = ET.fromstring(body)
    except ET.ParseError as e:
        raise ApiError(400, "MalformedXML", "The XML you provided was not well-formed: %s" % e)
    quiet = False
    out = []
    for el in root:
        name = el.tag.split("}")[-1]
        if name == "Quiet":
            quiet = (el.text or "").strip().lower() == "true"
        elif name == "Object":
            key = None
            for ch in el:
                if ch.tag.split("}")[-1] == "Key":
                    key = ch.text or ""
            try:
                store.check_key(key)
                store.delete(b, key)
                if not quiet:
                    out.append("<Deleted><Key>%s</Key></Deleted>" % xml_esc(key))
            except ApiError as e:
                out.append("<Error><Key>%s</Key><Code>%s</Code><Message>%s</Message></Error>" %
                           (xml_esc(key or ""), e.code, xml_esc(e.message)))
    return s3_xml('<DeleteResult xmlns="%s">%s</DeleteResult>' % (S3NS, "".join(out)))


# ---------------------------------------------------------------------------
# LLMs: Bedrock Runtime, OpenAI chat completions, Gemini generateContent
# ---------------------------------------------------------------------------

def _text_of(content):
    """Text of a message content (string, or a list of blocks in any provider's shape)."""
    if isinstance(content, str):
        return content
    out = []
    if isinstance(content, list):
        for blk in content:
            if isinstance(blk, str):
                out.append(blk)
            elif isinstance(blk, dict) and isinstance(blk.get("text"), str):
                out.append(blk["text"])
    return "\n".join(out)


def test_reply(text):
    """The value of "weir_test_reply" in the first JSON object of text that has it."""
    dec = json.JSONDecoder()
    for m in re.finditer(r"\{", text):
        try:
            obj, _ = dec.raw_decode(text, m.start())
        except ValueError:
            continue
        if isinstance(obj, dict) and "weir_test_reply" in obj:
            v = obj["weir_test_reply"]
            return v if isinstance(v, str) else json.dumps(v, separators=(",", ":"))
    return None


def llm_answer(prompt, want_json):
    r = test_reply(prompt)
    if r is not None:
        return r
    head = prompt[:80]
    return json.dumps({"echo": head}, separators=(",", ":")) if want_json else "echo: " + head


def tokens(s):
    return max(1, int(math.ceil(len(s) / 4.0)))


def clip(answer, max_tokens):
    """(text, truncated?) with the answer cut to max_tokens * 4 characters."""
    if isinstance(max_tokens, int) and not isinstance(max_tokens, bool) and max_tokens > 0 and \
            tokens(answer) > max_tokens:
        return answer[:max_tokens * 4], True
    return answer, False


def bad_llm_input(service, message):
    if service == "bedrock":
        raise ApiError(400, "ValidationException", message)
    if service == "openai":
        raise ApiError(400, "invalid_request_error", message)
    raise ApiError(400, "INVALID_ARGUMENT", message)


def last_user_text(messages, user_roles=("user",)):
    for m in reversed(messages):
        if isinstance(m, dict) and m.get("role") in user_roles:
            return _text_of(m.get("content") if "content" in m else m.get("parts"))
    return ""


def check_messages(service, msgs, key, content_key, content_types):
    for i, m in enumerate(msgs):
        if not isinstance(m, dict) or not isinstance(m.get("role", "user"), str) or \
                not isinstance(m.get(content_key), content_types):
            bad_llm_input(service, "%s[%d] must be an object with a string role and %s" %
                          (key, i, content_key))


def bedrock_converse(model, body):
    msgs = body.get("messages")
    if not isinstance(msgs, list) or not msgs:
        bad_llm_input("bedrock", "1 validation error detected: Value at 'messages' failed to "
                      "satisfy constraint: Member must not be null or empty")
    check_messages("bedrock", msgs, "messages", "content", list)
    prompt = last_user_text(msgs)
    system = _text_of(body.get("system") or [])
    tc = body.get("toolConfig") or {}
    choice = tc.get("toolChoice") or {}
    tools = [t.get("toolSpec", {}).get("name") for t in tc.get("tools") or []]
    forced = None
    if "tool" in choice:
        forced = choice["tool"].get("name")
        if forced not in tools:
            bad_llm_input("bedrock", "toolChoice names tool %r that is not in toolConfig.tools"
                          % forced)
    elif "any" in choice and tools:
        forced = tools[0]
    want_json = forced is not None or "outputConfig" in body
    answer = llm_answer(prompt, want_json)
    max_tokens = (body.get("inferenceConfig") or {}).get("maxTokens")
    t0 = time.time()
    if forced:
        try:
            inp = json.loads(answer)
        except ValueError:
            inp = {"text": answer}
        if not isinstance(inp, dict):
            inp = {"value": inp}
        content = [{"toolUse": {"toolUseId": "tooluse_" + uuid.uuid4().hex[:22], "name": forced,
                                "input": inp}}]
        stop, out_text = "tool_use", json.dumps(inp)
    else:
        out_text, cut = clip(answer, max_tokens)
        content = [{"text": out_text}]
        stop = "max_tokens" if cut else "end_turn"
    it, ot = tokens(system + _all_text(msgs)), tokens(out_text)
    return {"output": {"message": {"role": "assistant", "content": content}},
            "stopReason": stop,
            "usage": {"inputTokens": it, "outputTokens": ot, "totalTokens": it + ot},
            "metrics": {"latencyMs": max(1, int((time.time() - t0) * 1000))}}


def _all_text(msgs):
    return "".join(_text_of(m.get("content") if isinstance(m, dict) else "") for m in msgs)


def bedrock_invoke(model, body):
    if "anthropic_version" not in body and "messages" not in body:
        bad_llm_input("bedrock", "This test server implements InvokeModel for the Anthropic "
                      "Messages body (anthropic_version, messages, max_tokens)")
    msgs = body.get("messages")
    if not isinstance(msgs, list) or not msgs:
        bad_llm_input("bedrock", "messages: at least one message is required")
    if not isinstance(body.get("max_tokens"), int):
        bad_llm_input("bedrock", "max_tokens: field required")
    check_messages("bedrock", msgs, "messages", "content", (list, str))
    prompt = last_user_text(msgs)
    system = body.get("system") or ""
    system = system if isinstance(system, str) else _text_of(system)
    choice = body.get("tool_choice") or {}
    forced = None
    if choice.get("type") == "tool":
        forced = choice.get("name")
    elif choice.get("type") == "any" and body.get("tools"):
        forced = body["tools"][0].get("name")
    want_json = forced is not None or "output_config" in body
    answer = llm_answer(prompt, want_json)
    if forced:
        try:
            inp = json.loads(answer)
        except ValueError:
            inp = {"text": answer}
        if not isinstance(inp, dict):
            inp = {"value": inp}
        content = [{"type": "tool_use", "id": "toolu_" + uuid.uuid4().hex[:24], "name": forced,
                    "input": inp}]
        stop, out_text = "tool_use", json.dumps(inp)
    else:
        out_text, cut = clip(answer, body["max_tokens"])
        content = [{"type": "text", "text": out_text}]
        stop = "max_tokens" if cut else "end_turn"
    return {"id": "msg_" + uuid.uuid4().hex[:24], "type": "message", "role": "assistant",
            "model": model, "content": content, "stop_reason": stop, "stop_sequence": None,
            "usage": {"input_tokens": tokens(system + _all_text(msgs)),
                      "output_tokens": tokens(out_text)}}


def openai_chat(body):
    msgs = body.get("messages")
    if not isinstance(msgs, list) or not msgs:
        bad_llm_input("openai", "'messages' is a required property and must not be empty")
    if not isinstance(body.get("model"), str):
        bad_llm_input("openai", "you must provide a model parameter")
    check_messages("openai", msgs, "messages", "content", (list, str, type(None)))
    rf = body.get("response_format") or {}
    want_json = rf.get("type") in ("json_object", "json_schema")
    answer = llm_answer(last_user_text(msgs), want_json)
    mt = body.get("max_completion_tokens", body.get("max_tokens"))
    text, cut = clip(answer, mt)
    pt, ct = tokens(_all_text(msgs)), tokens(text)
    return {"id": "chatcmpl-" + uuid.uuid4().hex[:24], "object": "chat.completion",
            "created": int(time.time()), "model": body["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text,
                                                 "refusal": None},
                         "logprobs": None, "finish_reason": "length" if cut else "stop"}],
            "usage": {"prompt_tokens": pt, "completion_tokens": ct, "total_tokens": pt + ct}}


def gemini_generate(model, body):
    contents = body.get("contents")
    if not isinstance(contents, list) or not contents:
        bad_llm_input("gemini", "* GenerateContentRequest.contents: contents is not specified")
    check_messages("gemini", contents, "contents", "parts", list)
    gc = body.get("generationConfig") or {}
    want_json = gc.get("responseMimeType") == "application/json"
    prompt = ""
    for c in reversed(contents):
        if isinstance(c, dict) and c.get("role", "user") == "user":
            prompt = _text_of(c.get("parts"))
            break
    answer = llm_answer(prompt, want_json)
    text, cut = clip(answer, gc.get("maxOutputTokens"))
    alltext = "".join(_text_of(c.get("parts")) for c in contents if isinstance(c, dict))
    pt, ct = tokens(alltext), tokens(text)
    return {"candidates": [{"content": {"role": "model", "parts": [{"text": text}]},
                            "finishReason": "MAX_TOKENS" if cut else "STOP", "index": 0}],
            "usageMetadata": {"promptTokenCount": pt, "candidatesTokenCount": ct,
                              "totalTokenCount": pt + ct},
            "modelVersion": model, "responseId": uuid.uuid4().hex[:22]}


# ---------------------------------------------------------------------------
# HTTP plumbing
# ---------------------------------------------------------------------------

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
    route_service = "bedrock" if service == "bedrock" else service
    try:
        verify_sigv4(state, rq, route_service)
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
            return fault_response(state, service, op, kind)
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


# ---------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------

def parse_args(argv):
    ex = os.path.join(SOURCE_DIR, "examples")
    p = argparse.ArgumentParser(description="weir's offline AWS/LLM imitation server "
                                "(see tests/aws-server/README.md)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--catalog", default=os.path.join(ex, "catalog"))
    p.add_argument("--data", default=os.path.join(ex, "lake"))
    p.add_argument("--s3-root", default=None)
    p.add_argument("--access-key", default="AKIDEXAMPLE")
    p.add_argument("--secret-key", default="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    p.add_argument("--session-token", default=None)
    p.add_argument("--region", default="us-east-1")
    p.add_argument("--bedrock-token", default=None)
    p.add_argument("--api-key", default=None)
    p.add_argument("--athena-polls", type=int, default=2)
    p.add_argument("--glue-page-size", type=int, default=2)
    p.add_argument("--no-glue-empty-page", action="store_true")
    p.add_argument("--s3-min-part-size", type=int, default=5 * 1024 * 1024)
    p.add_argument("--clock-skew", type=float, default=0.0)
    p.add_argument("--log", default=None)
    p.add_argument("--idle-timeout", type=float, default=0.0)
    p.add_argument("--port-file", default=None)
    p.add_argument("--pid-file", default=None)
    a = p.parse_args(argv)
    if a.athena_polls < 0 or not 1 <= a.glue_page_size <= 1000 or a.s3_min_part_size < 0:
        p.error("--athena-polls must be >= 0, --glue-page-size 1..1000, "
                "--s3-min-part-size >= 0")
    if a.catalog and not os.path.isdir(a.catalog):
        p.error("--catalog %s: not a directory" % a.catalog)
    if a.data and not os.path.isdir(a.data):
        p.error("--data %s: not a directory" % a.data)
    return a


def seed_store(data, root):
    """Copy the lake data into the S3 store; files already in the store are kept."""
    for b in sorted(os.listdir(data)):
        src = os.path.join(data, b)
        if not BUCKET_RE.match(b) or not os.path.isdir(src):
            continue
        for d, dirs, files in os.walk(src):
            rel = os.path.relpath(d, data)
            os.makedirs(os.path.join(root, rel), exist_ok=True)
            for f in files:
                dst = os.path.join(root, rel, f)
                if not os.path.exists(dst):
                    shutil.copy2(os.path.join(d, f), dst)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    temp_root = None
    if args.s3_root is None:
        temp_root = tempfile.mkdtemp(prefix="weir-aws-s3-")
        args.s3_root = temp_root
    os.makedirs(args.s3_root, exist_ok=True)
    if args.data:
        seed_store(args.data, args.s3_root)
    state = State(args)
    state.catalog = Catalog(args.catalog, args.s3_root)
    state.s3 = S3Store(args.s3_root, state.lock)
    ThreadingHTTPServer.request_queue_size = 64
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True
    server.state = state
    state.port = server.server_address[1]

    def cleanup():
        if temp_root:
            shutil.rmtree(temp_root, ignore_errors=True)

    def stop(*_):
        threading.Thread(target=server.shutdown, daemon=True).start()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    parent = os.getppid()

    def watch():
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                cleanup()
                os._exit(0)
            if args.idle_timeout and time.time() - state.last_request > args.idle_timeout:
                stop()
                return
    threading.Thread(target=watch, daemon=True).start()
    for path, value in ((args.pid_file, os.getpid()), (args.port_file, state.port)):
        if path:   # written whole, then renamed: a reader never sees a partial number
            with open(path + ".tmp", "w") as fh:
                fh.write("%d\n" % value)
            os.replace(path + ".tmp", path)
    sys.stdout.write("PORT=%d\n" % state.port)
    sys.stdout.flush()
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
