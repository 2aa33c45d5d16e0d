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
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from http.server import ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.environ.get("WEIR_SOURCE_DIR") or os.path.dirname(os.path.dirname(HERE))
if HERE not in sys.path:   # the awsim package sits next to this file
    sys.path.insert(0, HERE)

from awsim.catalog import Catalog  # noqa: E402
from awsim.common import BUCKET_RE  # noqa: E402
from awsim.http import Handler, State  # noqa: E402
from awsim.s3 import S3Store  # noqa: E402


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
