"""A minimal DynamoDB low-level client for the tests (standard library only).

DESIGN
Requests are JSON POSTs to "/" with X-Amz-Target DynamoDB_20120810.<Op>,
signed with AWS Signature Version 4 (service "dynamodb") using dummy
credentials: DynamoDB Local accepts any key but rejects a request whose
Authorization header is missing or malformed. Errors come back as HTTP 400
with {"__type": "<namespace>#<Name>", "message": ...}; we raise DynamoDBError
with the part after '#' so tests can match on the name.

Table definitions come from the shared reference tables.json (CreateTable
bodies); its non-API keys (_comment, source, _stream_note) are dropped.
"""

import datetime
import hashlib
import hmac
import json
import os
import time
import urllib.error
import urllib.request

REGION = "eu-west-2"
DUMMY_ACCESS_KEY = "AKIDDDB2ESTESTS0000"
DUMMY_SECRET_KEY = "ddb2es-test-dummy-secret-not-a-real-key"
TARGET_PREFIX = "DynamoDB_20120810."
NON_API_KEYS = ("_comment", "source", "_stream_note")
BATCH_WRITE_MAX = 25
BATCH_GET_MAX = 100


def repo_root():
    """The ddb2es checkout: $DDB2ES_ROOT, else two levels above this file."""
    env = os.environ.get("DDB2ES_ROOT")
    if env:
        return os.path.abspath(env)
    return os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def shared_dir():
    """The shared read-only material: $DDB2ES_SHARED, else <repo>/../shared."""
    env = os.environ.get("DDB2ES_SHARED")
    if env:
        return os.path.abspath(env)
    return os.path.abspath(os.path.join(repo_root(), "..", "shared"))


def tables_json_path():
    return os.path.join(shared_dir(), "reference", "hackney", "dynamodb", "tables.json")


def table_definitions():
    """{TableName: CreateTable body} from tables.json, non-API keys dropped."""
    with open(tables_json_path(), encoding="utf-8") as f:
        doc = json.load(f)
    out = {}
    for t in doc["tables"]:
        body = {k: v for k, v in t.items() if k not in NON_API_KEYS}
        out[body["TableName"]] = body
    return out


class DynamoDBError(Exception):
    """A DynamoDB error answer (or a transport failure, with type 'Transport')."""

    def __init__(self, op, status, err_type, message, body=None):
        self.op = op
        self.status = status
        self.type = err_type
        self.message = message
        self.body = body
        super().__init__("%s failed: HTTP %s %s: %s" % (op, status, err_type, message))


def _sign(key, msg):
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def sigv4_headers(host, region, service, target, payload, access_key, secret_key, now=None):
    """Headers (including Authorization) for a POST / with a JSON 1.0 body."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    date = now.strftime("%Y%m%d")
    content_type = "application/x-amz-json-1.0"
    payload_hash = hashlib.sha256(payload).hexdigest()
    canon_headers = (
        "content-type:%s\nhost:%s\nx-amz-date:%s\nx-amz-target:%s\n"
        % (content_type, host, amz_date, target)
    )
    signed = "content-type;host;x-amz-date;x-amz-target"
    creq = "\n".join(["POST", "/", "", canon_headers, signed, payload_hash])
    scope = "%s/%s/%s/aws4_request" % (date, region, service)
    sts = "\n".join(
        ["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(creq.encode("utf-8")).hexdigest()]
    )
    k = _sign(("AWS4" + secret_key).encode("utf-8"), date)
    k = _sign(k, region)
    k = _sign(k, service)
    k = _sign(k, "aws4_request")
    sig = hmac.new(k, sts.encode("utf-8"), hashlib.sha256).hexdigest()
    return {
        "Content-Type": content_type,
        "X-Amz-Date": amz_date,
        "X-Amz-Target": target,
        "Authorization": "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s"
        % (access_key, scope, signed, sig),
    }


class DynamoDB:
    """Client for one endpoint, e.g. DynamoDB("http://127.0.0.1:8000")."""

    def __init__(self, endpoint, region=REGION, access_key=DUMMY_ACCESS_KEY,
                 secret_key=DUMMY_SECRET_KEY, timeout=60):
        self.endpoint = endpoint.rstrip("/")
        self.region = region
        self.access_key = access_key
        self.secret_key = secret_key
        self.timeout = timeout
        self.host = self.endpoint.split("://", 1)[-1].split("/", 1)[0]

    # -- the one primitive ------------------------------------------------
    def call(self, op, body=None, timeout=None):
        """POST one operation; returns the parsed answer or raises DynamoDBError."""
        payload = json.dumps(body or {}).encode("utf-8")
        target = TARGET_PREFIX + op
        headers = sigv4_headers(self.host, self.region, "dynamodb", target, payload,
                                self.access_key, self.secret_key)
        req = urllib.request.Request(self.endpoint + "/", data=payload, headers=headers,
                                     method="POST")
        try:
            with urllib.request.urlopen(req, timeout=timeout or self.timeout) as resp:
                raw = resp.read()
                status = resp.status
        except urllib.error.HTTPError as e:
            raw = e.read()
            status = e.code
        except (urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", e)
            raise DynamoDBError(op, None, "Transport",
                                "cannot reach %s: %s" % (self.endpoint, reason)) from None
        text = raw.decode("utf-8", "replace")
        try:
            doc = json.loads(text) if text else {}
        except ValueError:
            doc = None
        if status != 200 or doc is None:
            err_type, msg = "HTTP%s" % status, text[:500]
            if isinstance(doc, dict):
                err_type = str(doc.get("__type", err_type)).rsplit("#", 1)[-1]
                msg = doc.get("message", doc.get("Message", msg))
            raise DynamoDBError(op, status, err_type, msg, doc)
        return doc

    # -- tables -----------------------------------------------------------
    def list_tables(self):
        names, start = [], None
        while True:
            body = {"Limit": 100}
            if start:
                body["ExclusiveStartTableName"] = start
            r = self.call("ListTables", body)
            names += r.get("TableNames", [])
            start = r.get("LastEvaluatedTableName")
            if not start:
                return names

    def create_table(self, name, wait=True):
        """Create table `name` (Persons, TenureInformation, Assets) as in tables.json."""
        defs = table_definitions()
        if name not in defs:
            raise KeyError("no table %r in %s (have %s)" % (name, tables_json_path(), sorted(defs)))
        r = self.call("CreateTable", defs[name])
        if wait:
            self.wait_active(name)
        return r["TableDescription"]

    def wait_active(self, name, timeout=30):
        end = time.monotonic() + timeout
        while True:
            d = self.describe_table(name)
            if d["TableStatus"] == "ACTIVE":
                return d
            if time.monotonic() > end:
                raise TimeoutError("table %s still %s after %ss" % (name, d["TableStatus"], timeout))
            time.sleep(0.05)

    def describe_table(self, name):
        return self.call("DescribeTable", {"TableName": name})["Table"]

    def delete_table(self, name):
        return self.call("DeleteTable", {"TableName": name})

    # -- items ------------------------------------------------------------
    def put_item(self, table, item):
        return self.call("PutItem", {"TableName": table, "Item": item})

    def get_item(self, table, key, consistent=True):
        r = self.call("GetItem", {"TableName": table, "Key": key, "ConsistentRead": consistent})
        return r.get("Item")

    def delete_item(self, table, key):
        return self.call("DeleteItem", {"TableName": table, "Key": key})

    def batch_write(self, table, items, max_attempts=10):
        """Put all items, 25 per BatchWriteItem, resending UnprocessedItems with
        backoff. Returns the number of requests sent."""
        calls = 0
        for i in range(0, len(items), BATCH_WRITE_MAX):
            pending = {table: [{"PutRequest": {"Item": it}} for it in items[i:i + BATCH_WRITE_MAX]]}
            attempt = 0
            while pending:
                r = self.call("BatchWriteItem", {"RequestItems": pending})
                calls += 1
                pending = r.get("UnprocessedItems") or {}
                if pending:
                    attempt += 1
                    if attempt >= max_attempts:
                        raise DynamoDBError("BatchWriteItem", 200, "UnprocessedItems",
                                            "%d items still unprocessed after %d attempts"
                                            % (sum(len(v) for v in pending.values()), attempt))
                    time.sleep(min(1.0, 0.02 * (2 ** attempt)))
        return calls

    def batch_get(self, table, keys, max_attempts=10, **extra):
        """Get up to 100 keys in one BatchGetItem (resending UnprocessedKeys).
        Returns (items, first_response)."""
        if len(keys) > BATCH_GET_MAX:
            raise ValueError("BatchGetItem takes at most %d keys" % BATCH_GET_MAX)
        req = {table: {"Keys": keys}}
        items, first, attempt = [], None, 0
        while req:
            body = {"RequestItems": req}
            body.update(extra)
            r = self.call("BatchGetItem", body)
            first = first or r
            items += r.get("Responses", {}).get(table, [])
            req = r.get("UnprocessedKeys") or {}
            if req:
                attempt += 1
                if attempt >= max_attempts:
                    raise DynamoDBError("BatchGetItem", 200, "UnprocessedKeys",
                                        "keys still unprocessed after %d attempts" % attempt)
                time.sleep(min(1.0, 0.02 * (2 ** attempt)))
        return items, first

    def scan_pages(self, table, limit=None, segment=None, total_segments=None, **extra):
        """Yield every Scan response page until LastEvaluatedKey is absent."""
        body = {"TableName": table}
        if limit is not None:
            body["Limit"] = limit
        if total_segments is not None:
            body["Segment"] = segment
            body["TotalSegments"] = total_segments
        body.update(extra)
        while True:
            r = self.call("Scan", body)
            yield r
            lek = r.get("LastEvaluatedKey")
            if not lek:
                return
            body["ExclusiveStartKey"] = lek

    def scan_all(self, table, limit=None, segment=None, total_segments=None, stats=None, **extra):
        """Every item of a table (or of one segment). If `stats` is a dict it
        receives pages, scanned_count and the page sizes."""
        items, pages, scanned, sizes = [], 0, 0, []
        for r in self.scan_pages(table, limit, segment, total_segments, **extra):
            got = r.get("Items", [])
            items += got
            pages += 1
            scanned += r.get("ScannedCount", 0)
            sizes.append(len(got))
        if stats is not None:
            stats.update(pages=pages, scanned_count=scanned, page_sizes=sizes)
        return items
