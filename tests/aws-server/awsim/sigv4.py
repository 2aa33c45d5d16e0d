"""SigV4 verification of the received request with botocore (header and
query-string forms), and the error answer for each failed check."""

import datetime
import hashlib
import hmac
import re

from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.compat import HTTPHeaders
from botocore.credentials import Credentials

from .common import json_error, rest_json_error, s3_error

SKEW_LIMIT = 15 * 60
AMZ_DATE_RE = re.compile(r"^(\d{8})T\d{6}Z$")


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
