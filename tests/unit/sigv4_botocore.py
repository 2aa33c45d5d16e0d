#!/usr/bin/env python3
"""Independent SigV4 oracle for test_sigv4_oracle.c.

Reads JSON lines (one request each) on stdin, signs every request with
botocore's SigV4Auth (S3SigV4Auth for service "s3") at the request's fixed
time, and writes one JSON line per request: the canonical request, the string
to sign and the Authorization header botocore computed.

Request fields: method, host, path (as on the wire), query (list of decoded
[name, value] pairs), headers (list of [name, value], in order), body, service,
region, date ("YYYYMMDDTHHMMSSZ"), key, secret, token (or null).
"""
import datetime
import json
import sys
import types

import botocore
import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


class FixedDateTime(datetime.datetime):
    """datetime whose "now" is the request's signing time."""

    fixed = None

    @classmethod
    def utcnow(cls):
        return cls.fixed

    @classmethod
    def now(cls, tz=None):
        return cls.fixed if tz is None else cls.fixed.replace(tzinfo=tz)


def pin_clock():
    # botocore >= 1.31 asks get_current_datetime(); older ones datetime.utcnow().
    if hasattr(botocore.auth, "get_current_datetime"):
        botocore.auth.get_current_datetime = lambda *a, **k: FixedDateTime.fixed
    botocore.auth.datetime = types.SimpleNamespace(
        datetime=FixedDateTime, timezone=datetime.timezone
    )


class Capture:
    """Keeps the intermediate strings of the signer it is mixed into."""

    def string_to_sign(self, request, canonical_request):
        self.captured_cr = canonical_request
        self.captured_sts = super().string_to_sign(request, canonical_request)
        return self.captured_sts


class CaptureV4(Capture, botocore.auth.SigV4Auth):
    pass


class CaptureS3(Capture, botocore.auth.S3SigV4Auth):
    pass


def sign(req):
    FixedDateTime.fixed = datetime.datetime.strptime(req["date"], "%Y%m%dT%H%M%SZ")
    creds = Credentials(req["key"], req["secret"], req.get("token"))
    cls = CaptureS3 if req["service"] == "s3" else CaptureV4
    signer = cls(creds, req["service"], req["region"])
    request = AWSRequest(
        method=req["method"],
        url="https://" + req["host"] + req["path"],
        data=req["body"].encode("utf-8"),
        params=[tuple(p) for p in req["query"]],
    )
    for name, value in req["headers"]:
        request.headers[name] = value  # appends: repeated names stay in order
    signer.add_auth(request)
    return {
        "canonical_request": signer.captured_cr,
        "string_to_sign": signer.captured_sts,
        "authorization": request.headers["Authorization"],
    }


def main():
    pin_clock()
    sys.stderr.write("sigv4 oracle: botocore %s\n" % botocore.__version__)
    for line in sys.stdin:
        if line.strip():
            sys.stdout.write(json.dumps(sign(json.loads(line))) + "\n")


if __name__ == "__main__":
    main()
