"""S3 REST XML: the object store (plain files under --s3-root) and the bucket,
object, listing and multipart operations."""

import base64
import datetime
import hashlib
import json
import os
import re
import shutil
import urllib.parse
import uuid
import xml.etree.ElementTree as ET

from .common import BUCKET_RE, ApiError, Resp, b64tok, http_time, untok, xml_esc


S3NS = "http://s3.amazonaws.com/doc/2006-03-01/"
META_DIR = ".weir-meta"


def iso_time(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S.000Z")


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
