"""Documents as the queries of the Elasticsearch-compatible test server see them.

DESIGN: documents are seen through a DocView that reads per-reader columns (normalised
values of one field for every document of the reader, built on first use and cached on the
immutable Reader), so repeated searches and paging over 100,000 documents parse each _source
once per refresh, not once per request. The same columns serve sorting, doc values and
aggregations. A SubView shows one object of a nested field as a document to the inner query
of a nested query.
"""

import json

from es_analysis import analyze, normalize_keyword
from es_values import value_for, as_text


def extract(obj, path):
    """Values of a dotted path in a parsed _source (arrays flattened; dotted keys honoured)."""
    parts = path.split(".")
    out = []
    _extract(obj, parts, 0, out)
    return out


def _extract(node, parts, i, out):
    if isinstance(node, list):
        for x in node:
            _extract(x, parts, i, out)
        return
    if i == len(parts):
        out.append(node)
        return
    if not isinstance(node, dict):
        return
    for j in range(i + 1, len(parts) + 1):
        key = ".".join(parts[i:j]) if j - i > 1 else parts[i]
        if key in node:
            _extract(node[key], parts, j, out)


def _flat_leaves(node, out):
    if isinstance(node, dict):
        for v in node.values():
            _flat_leaves(v, out)
    elif isinstance(node, list):
        for v in node:
            _flat_leaves(v, out)
    elif node is not None:
        out.append(node)


def column_values(field, raw, settings):
    """Normalised values of one field from the raw values extracted from _source."""
    out = []
    t = field.type
    flat_vals = []
    for v in raw:
        if isinstance(v, list):
            flat_vals.extend(v)
        else:
            flat_vals.append(v)
    if getattr(field, "flat", False) or t == "flat_object":
        leaves = []
        for v in flat_vals:
            _flat_leaves(v, leaves)
        return tuple(as_text(v) for v in leaves)
    if t in ("text", "match_only_text"):
        analyzer = field.params.get("analyzer")
        for v in flat_vals:
            s = value_for(field, v)
            if s is not None:
                out.append(tuple(analyze(s, analyzer, settings)))
        return tuple(out)
    norm = field.params.get("normalizer") if t == "keyword" else None
    for v in flat_vals:
        n = value_for(field, v)
        if n is not None:
            if norm:
                n = normalize_keyword(n, norm, settings)
            out.append(n)
    return tuple(out)


MAX_COLUMNS = 24


def ensure_columns(reader, fields):
    """Builds the columns for fields (Field objects) that the reader lacks, in one pass, and
    returns {path: column} for all of them (searches run concurrently without the cluster
    lock, so a column may be evicted by another search right after this returns)."""
    cache = reader.cache
    have = {}
    missing = []
    for f in fields:
        col = cache.get(("col", f.path))
        if col is None:
            missing.append(f)
        else:
            have[f.path] = col
    if not missing:
        return have
    cols = [[] for _ in missing]
    settings = reader.index.settings
    loads = json.loads
    for d in reader.docs:
        obj = loads(d.source)
        for f, col in zip(missing, cols):
            if f.nested_path is not None and not getattr(f, "flat", False):
                col.append(())
                continue
            col.append(column_values(f, extract(obj, f.source_path), settings))
    ncols = sum(1 for k in cache if k[0] == "col")
    if ncols + len(missing) > MAX_COLUMNS:
        for k in [k for k in list(cache) if k[0] == "col"][:len(missing)]:
            cache.pop(k, None)
    for f, col in zip(missing, cols):
        cache[("col", f.path)] = col
        have[f.path] = col
    return have


class DocView(object):
    """One document of a reader as the query sees it."""
    __slots__ = ("reader", "pos", "doc", "_obj")

    def __init__(self, reader, pos):
        self.reader = reader
        self.pos = pos
        self.doc = reader.docs[pos]
        self._obj = None

    def vals(self, field):
        col = self.reader.cache.get(("col", field.path))
        if col is None:
            col = ensure_columns(self.reader, [field])[field.path]
        return col[self.pos]

    def obj(self):
        if self._obj is None:
            self._obj = json.loads(self.doc.source)
        return self._obj

    def raw(self, path):
        return extract(self.obj(), path)


class SubView(object):
    """A nested object seen as a document by the inner query of a nested query."""
    __slots__ = ("parent", "sub", "path", "reader", "doc", "_cache")

    def __init__(self, parent, sub, path):
        self.parent = parent
        self.sub = sub
        self.path = path
        self.reader = parent.reader
        self.doc = parent.doc
        self._cache = {}

    def vals(self, field):
        v = self._cache.get(field.path)
        if v is None:
            rel = field.source_path[len(self.path) + 1:] if field.source_path.startswith(self.path + ".") else None
            if rel is None:
                v = ()
            else:
                v = column_values(field, extract(self.sub, rel), self.reader.index.settings)
            self._cache[field.path] = v
        return v

    def obj(self):
        return self.sub

    def raw(self, path):
        if path.startswith(self.path + "."):
            return extract(self.sub, path[len(self.path) + 1:])
        return []
