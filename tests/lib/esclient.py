"""A tiny HTTP client for the Elasticsearch test server (standard library only).

    es = ES("http://127.0.0.1:9200")
    es.get("/"), es.post("/persons/_search", {...}), es.put(...), es.delete(...)
    es.refresh("persons"); es.count("persons"); es.all_docs("persons") -> {id: source}

get/post/put/delete return the parsed JSON answer and raise ESError for an
HTTP status >= 400 (check=False returns (status, doc) instead).
all_docs pages with search_after sorted on _id; if the server refuses that
sort (real Elasticsearch 8 does unless id field data is enabled) it falls
back to a scroll. It raises if a document id comes back twice.
"""

import json
import urllib.error
import urllib.parse
import urllib.request

PAGE = 500


class ESError(Exception):
    def __init__(self, method, path, status, body):
        self.method = method
        self.path = path
        self.status = status
        self.body = body
        text = body if isinstance(body, str) else json.dumps(body)
        super().__init__("%s %s: HTTP %s: %s" % (method, path, status, text[:500]))


class ES:
    def __init__(self, url, timeout=60):
        self.url = url.rstrip("/")
        self.timeout = timeout

    def request(self, method, path, body=None, ndjson=False):
        """(status, parsed answer or text). body: dict/list (JSON) or str/bytes."""
        data, headers = None, {}
        if body is not None:
            if isinstance(body, (dict, list)):
                data = json.dumps(body).encode("utf-8")
            elif isinstance(body, str):
                data = body.encode("utf-8")
            else:
                data = body
            headers["Content-Type"] = "application/x-ndjson" if ndjson else "application/json"
        req = urllib.request.Request(self.url + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read()
        text = raw.decode("utf-8", "replace")
        try:
            return status, json.loads(text) if text else None
        except ValueError:
            return status, text

    def _checked(self, method, path, body=None, check=True, ndjson=False):
        status, doc = self.request(method, path, body, ndjson)
        if not check:
            return status, doc
        if status >= 400:
            raise ESError(method, path, status, doc)
        return doc

    def get(self, path, check=True):
        return self._checked("GET", path, check=check)

    def post(self, path, body=None, check=True, ndjson=False):
        return self._checked("POST", path, body, check, ndjson)

    def put(self, path, body=None, check=True):
        return self._checked("PUT", path, body, check)

    def delete(self, path, body=None, check=True):
        return self._checked("DELETE", path, body, check)

    def head(self, path):
        return self.request("HEAD", path)[0]

    def exists(self, index):
        return self.head("/" + _q(index)) == 200

    def refresh(self, index):
        return self.post("/%s/_refresh" % _q(index))

    def count(self, index):
        return self.get("/%s/_count" % _q(index))["count"]

    def bulk_index(self, index, docs):
        """Index {id: source} with one _bulk call (refresh=true); returns the answer."""
        lines = []
        for _id, src in docs.items():
            lines.append(json.dumps({"index": {"_index": index, "_id": _id}}))
            lines.append(json.dumps(src))
        return self.post("/_bulk?refresh=true", "\n".join(lines) + "\n", ndjson=True)

    def all_docs(self, index, page=PAGE):
        """Every document of the index as {_id: _source}."""
        status, first = self.request("POST", "/%s/_search" % _q(index), {
            "size": page, "sort": [{"_id": "asc"}], "query": {"match_all": {}},
            "track_total_hits": True})
        if status == 200:
            return self._search_after(index, page, first)
        if status == 404:
            raise ESError("POST", "/%s/_search" % index, status, first)
        return self._scroll(index, page)

    def _search_after(self, index, page, resp):
        out = {}
        while True:
            hits = resp["hits"]["hits"]
            for h in hits:
                _add(out, h)
            if len(hits) < page:
                return out
            resp = self.post("/%s/_search" % _q(index), {
                "size": page, "sort": [{"_id": "asc"}], "query": {"match_all": {}},
                "search_after": hits[-1]["sort"]})

    def _scroll(self, index, page):
        out = {}
        resp = self.post("/%s/_search?scroll=1m" % _q(index),
                         {"size": page, "sort": ["_doc"], "query": {"match_all": {}}})
        sid = resp.get("_scroll_id")
        try:
            while resp["hits"]["hits"]:
                for h in resp["hits"]["hits"]:
                    _add(out, h)
                resp = self.post("/_search/scroll", {"scroll": "1m", "scroll_id": sid})
                sid = resp.get("_scroll_id", sid)
        finally:
            if sid:
                self.request("DELETE", "/_search/scroll", {"scroll_id": sid})
        return out


def _add(out, hit):
    if hit["_id"] in out:
        raise AssertionError("document %s returned twice while paging" % hit["_id"])
    out[hit["_id"]] = hit.get("_source")


def _q(index):
    return urllib.parse.quote(index, safe=",*")
