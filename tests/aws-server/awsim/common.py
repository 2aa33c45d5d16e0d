"""What every service module shares: error and response objects, the error
answer in each service's wire shape, paging tokens."""

import base64
import email.utils
import json
import re
import uuid
from xml.sax.saxutils import escape as _xml_escape

BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")


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


class SqlFail(Exception):
    """A query failure with a Trino-like reason."""


def http_time(ts):
    return email.utils.formatdate(ts, usegmt=True)


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
