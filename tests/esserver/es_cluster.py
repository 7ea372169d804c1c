"""Cluster state of the Elasticsearch-compatible test server.

DESIGN: one Cluster object holds everything (indices, aliases, cluster settings, scroll and
point-in-time contexts) behind one re-entrant lock; the HTTP layer parses requests outside
the lock and applies them inside it, so every API call is atomic as on a single-shard node.
Index expressions (comma lists, wildcards, "-" exclusions, aliases, expand_wildcards) are
resolved here with the errors a real node sends; indices, shards and documents are in
es_index.py, the document operations in es_docs.py.

A scroll or point in time is a SearchContext that keeps the Readers of the moment it was
opened; its id is an opaque base64 string like a real node's, from which the context number
is read back.
"""

import base64
import os
import struct
import threading
import time

from es_common import (EsError, illegal_argument, index_not_found, now_ms, glob_match, mapper_error,
                       search_phase_error)
from es_index import Index, validate_index_name, validate_index_or_alias_name
from es_settings import CLUSTER_SETTINGS, check_setting_names, check_setting_values


# ---------------------------------------------------------------------------------------
# contexts

class SearchContext(object):
    """A scroll or a point in time: readers frozen at creation plus a keep-alive."""

    def __init__(self, kind, ctx_id, readers, keep_alive_ms, extra=None):
        self.kind = kind
        self.id = ctx_id
        self.readers = readers
        self.keep_alive_ms = keep_alive_ms
        self.expires = time.monotonic() + keep_alive_ms / 1000.0
        self.created = now_ms()
        self.extra = extra or {}

    def touch(self, keep_alive_ms=None):
        if keep_alive_ms is not None:
            self.keep_alive_ms = keep_alive_ms
        self.expires = time.monotonic() + self.keep_alive_ms / 1000.0

    def expired(self):
        return time.monotonic() > self.expires


_CTX_PREFIX = b"\rqueryAndFetch\x01"
_PIT_PREFIX = b"\x03pit"


def make_ctx_id(kind, n):
    prefix = _CTX_PREFIX if kind == "scroll" else _PIT_PREFIX
    raw = prefix + struct.pack(">Q", n) + os.urandom(16)
    return base64.b64encode(raw).decode("ascii")


def parse_ctx_id(kind, text):
    prefix = _CTX_PREFIX if kind == "scroll" else _PIT_PREFIX
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except Exception:
        return None
    if not raw.startswith(prefix) or len(raw) != len(prefix) + 24:
        return None
    return struct.unpack(">Q", raw[len(prefix):len(prefix) + 8])[0]


def context_missing(n):
    inner = EsError(404, "search_context_missing_exception", "No search context found for id [%d]" % n)
    return search_phase_error(inner, [], status=404)


# ---------------------------------------------------------------------------------------
# the cluster

class Cluster(object):
    def __init__(self, flavour):
        self.flavour = flavour
        self.lock = threading.RLock()
        self.indices = {}
        self.aliases = {}          # alias -> {index name -> props}
        self.persistent = {}
        self.transient = {}
        self.contexts = {}         # scroll / pit id -> SearchContext
        self.ctx_counter = 0

    # -- cluster settings -----------------------------------------------------------------

    def cluster_setting(self, key):
        for d in (self.transient, self.persistent):
            if key in d:
                return d[key]
        v = CLUSTER_SETTINGS.get(key)
        if key == "action.destructive_requires_name" and v is None:
            return "true" if self.flavour.destructive_requires_name_default else "false"
        if key == "indices.id_field_data.enabled" and v is None:
            return "true" if self.flavour.id_fielddata_default else "false"
        return v

    def reset(self):
        with self.lock:
            self.indices.clear()
            self.aliases.clear()
            self.persistent.clear()
            self.transient.clear()
            self.contexts.clear()

    # -- lookups ----------------------------------------------------------------------------

    def aliases_of(self, index_name):
        return {a: props[index_name] for a, props in self.aliases.items() if index_name in props}

    def resolve(self, expr, ignore_unavailable=False, allow_no_indices=True,
                expand_wildcards="open", allow_aliases=True, reject_aliases=False):
        """Index expression -> list of (Index, alias names used or None), in index order.

        expr: None, "", "_all", a comma list or a list; wildcards; "-x" exclusions after a
        wildcard; aliases. Raises index_not_found like a real node."""
        if isinstance(expr, list):
            parts = [p.strip() for p in expr]
        else:
            parts = [p.strip() for p in (expr or "").split(",")]
        parts = [p for p in parts if p != ""]
        expand = set((expand_wildcards or "open").split(",")) if isinstance(expand_wildcards, str) \
            else set(expand_wildcards)
        if "all" in expand:
            expand = {"open", "closed", "hidden"}
        if "none" in expand:
            expand = set()
        result = {}       # name -> set of aliases (None = direct)
        order = []

        def add(idx, via):
            if idx.name not in result:
                result[idx.name] = set()
                order.append(idx.name)
            if via is None:
                result[idx.name].add(None)
            else:
                result[idx.name].add(via)

        def wildcard_ok(idx, pattern):
            if idx.state == "close" and "closed" not in expand:
                return False
            if idx.state == "open" and "open" not in expand:
                return False
            if idx.hidden() and "hidden" not in expand and not (pattern.startswith(".") and idx.name.startswith(".")):
                return False
            if idx.name.startswith(".") and not pattern.startswith(".") and "hidden" not in expand \
                    and self.flavour.is_es and self.flavour.major >= 8:
                return False
            return True

        if not parts or parts == ["_all"]:
            for name in sorted(self.indices):
                idx = self.indices[name]
                if wildcard_ok(idx, "*"):
                    add(idx, None)
            if not result and not allow_no_indices:
                raise index_not_found(expr if isinstance(expr, str) and expr else "_all")
            return [(self.indices[n], result[n]) for n in order]
        wildcard_seen = False
        for p in parts:
            if p.startswith("-") and wildcard_seen:
                pat = p[1:]
                for name in list(order):
                    if glob_match(pat, name):
                        order.remove(name)
                        del result[name]
                # exclusions also remove indices reached through a matching alias
                for name in list(order):
                    if result[name] and all(a is not None and glob_match(pat, a) for a in result[name]):
                        order.remove(name)
                        del result[name]
                continue
            if "*" in p:
                wildcard_seen = True
                found = False
                for name in sorted(self.indices):
                    idx = self.indices[name]
                    if glob_match(p, name) and wildcard_ok(idx, p):
                        add(idx, None)
                        found = True
                if allow_aliases and not reject_aliases:
                    for alias in sorted(self.aliases):
                        if glob_match(p, alias):
                            for iname in sorted(self.aliases[alias]):
                                idx = self.indices.get(iname)
                                if idx is None:
                                    continue
                                # a hidden alias is expanded only with "hidden" or by a dot pattern;
                                # indices reached through a visible alias count even if hidden
                                if self.aliases[alias][iname].get("is_hidden") and "hidden" not in expand \
                                        and not (p.startswith(".") and alias.startswith(".")):
                                    continue
                                if ("closed" if idx.state == "close" else "open") not in expand:
                                    continue
                                add(idx, alias)
                                found = True
                if not found and not allow_no_indices:
                    raise index_not_found(p)
                continue
            if p in self.indices:
                add(self.indices[p], None)
                continue
            if p in self.aliases and allow_aliases:
                if reject_aliases:
                    if ignore_unavailable:
                        continue
                    raise illegal_argument("The provided expression [%s] matches an alias, specify the "
                                           "corresponding concrete indices instead." % p)
                for iname in sorted(self.aliases[p]):
                    add(self.indices[iname], p)
                continue
            if ignore_unavailable:
                continue
            raise index_not_found(p)
        if not result and not allow_no_indices:
            raise index_not_found(",".join(parts))
        return [(self.indices[n], result[n]) for n in order]

    def index_for_read(self, name):
        """A single index or alias for GET-by-id: returns (Index, alias props or None)."""
        idx = self.indices.get(name)
        if idx is not None:
            return idx, None
        a = self.aliases.get(name)
        if a:
            if len(a) > 1:
                raise illegal_argument(
                    "alias [%s] has more than one index associated with it [%s], can't execute a single "
                    "index op" % (name, ", ".join(sorted(a))))
            iname = next(iter(a))
            return self.indices[iname], a[iname]
        raise index_not_found(name)

    # -- index lifecycle -------------------------------------------------------------------

    def create_index(self, name, settings=None, mappings=None, aliases=None, auto=False):
        validate_index_name(name)
        if name in self.indices:
            idx = self.indices[name]
            raise EsError(400, "resource_already_exists_exception",
                          "index [%s/%s] already exists" % (name, idx.uuid),
                          {"index_uuid": idx.uuid, "index": name})
        if name in self.aliases:
            raise EsError(400, "invalid_index_name_exception",
                          "Invalid index name [%s], already exists as alias" % name,
                          {"index_uuid": "_na_", "index": name})
        settings = dict(settings or {})
        check_setting_names(settings)
        check_setting_values(settings)
        if settings.get("index.bulk.adaptive_shard_selection.enabled") == "true" and \
                settings.get("index.append_only.enabled") != "true":
            raise illegal_argument(
                "index [%s] is not append-only index, bulk adaptive shard selection is enabled, which is not "
                "supported. Please disable bulk adaptive shard selection or set index to append-only index." % name)
        if settings.get("index.number_of_routing_shards") is None:
            settings.pop("index.number_of_routing_shards", None)
        if mappings is not None and not isinstance(mappings, dict):
            raise mapper_error("Failed to parse mapping [_doc]: mapping must be an object")
        try:
            idx = Index(self, name, settings, mappings or {})
        except EsError as e:
            if e.etype == "mapper_parsing_exception" and not e.reason.startswith("Failed to parse mapping"):
                # MapperService wraps the parser's error; root_cause names the innermost one
                if e.caused_by is not None:
                    raise EsError(400, "mapper_parsing_exception", "Failed to parse mapping [_doc]: " + e.reason,
                                  caused_by=e.caused_by)
                inner = EsError(400, "mapper_parsing_exception", e.reason)
                raise EsError(400, "mapper_parsing_exception", "Failed to parse mapping [_doc]: " + e.reason,
                              caused_by=inner, root_cause=[inner.cause_obj(with_cause=False)])
            raise
        pending = []
        for alias, props in (aliases or {}).items():
            pending.append((alias, self._alias_props(props or {}, alias)))
        for alias, props in pending:
            self._check_alias_name(alias, name)
        self.indices[name] = idx
        for alias, props in pending:
            self.aliases.setdefault(alias, {})[name] = props
        return idx

    def delete_index(self, idx):
        del self.indices[idx.name]
        for alias in list(self.aliases):
            self.aliases[alias].pop(idx.name, None)
            if not self.aliases[alias]:
                del self.aliases[alias]

    def _check_alias_name(self, alias, index_name=None, removed=()):
        validate_index_or_alias_name(alias, "invalid_alias_name_exception", "alias")
        if alias in self.indices and alias not in removed:
            raise EsError(400, "invalid_alias_name_exception",
                          "Invalid alias name [%s]: an index or data stream exists with the same name as "
                          "the alias" % alias)

    def _alias_props(self, body, alias):
        allowed = {"filter", "routing", "index_routing", "search_routing", "is_write_index",
                   "is_hidden"}
        for k in body:
            if k not in allowed:
                raise EsError(400, "x_content_parse_exception",
                              "[1:2] [aliases] unknown field [%s]" % k)
        props = {}
        if body.get("filter") is not None:
            props["filter"] = body["filter"]
        r = body.get("routing")
        ir = body.get("index_routing", r)
        sr = body.get("search_routing", r)
        if ir is not None:
            props["index_routing"] = str(ir)
        if sr is not None:
            props["search_routing"] = str(sr)
        if body.get("is_write_index") is not None:
            props["is_write_index"] = body["is_write_index"] in (True, "true")
        if body.get("is_hidden") is not None:
            props["is_hidden"] = body["is_hidden"] in (True, "true")
        return props

    def add_alias(self, index_name, alias, body):
        props = self._alias_props(body or {}, alias)
        self._check_alias_name(alias)
        self.aliases.setdefault(alias, {})[index_name] = props

    # -- writes ------------------------------------------------------------------------------

    def write_target(self, name, require_alias=False, auto_create=True):
        """The index a write to `name` goes to: returns (Index, alias props or None)."""
        idx = self.indices.get(name)
        if idx is not None:
            if require_alias:
                raise index_not_found(name, "no such index [%s] and [require_alias] request flag is "
                                            "[true] and [%s] is not an alias" % (name, name))
            return idx, None
        a = self.aliases.get(name)
        if a:
            writers = [i for i, p in a.items() if p.get("is_write_index")]
            if writers:
                return self.indices[writers[0]], a[writers[0]]
            if len(a) == 1:
                iname = next(iter(a))
                if a[iname].get("is_write_index") is False:
                    raise illegal_argument(_NO_WRITE_INDEX % name)
                return self.indices[iname], a[iname]
            raise illegal_argument(_NO_WRITE_INDEX % name)
        if require_alias:
            raise index_not_found(name, "no such index [%s] and [require_alias] request flag is [true] "
                                        "and [%s] is not an alias" % (name, name))
        if not auto_create:
            raise index_not_found(name)
        aci = self.cluster_setting("action.auto_create_index")
        if not _auto_create_allowed(aci, name):
            raise index_not_found(name, "no such index [%s] and [action.auto_create_index] %s"
                                  % (name, "is [false]" if aci == "false" else
                                         "([%s]) doesn't match" % aci))
        return self.create_index(name, auto=True), None

    def next_ctx_id(self):
        self.ctx_counter += 1
        return self.ctx_counter

    def expire_contexts(self):
        for cid in [c for c, ctx in self.contexts.items() if ctx.expired()]:
            del self.contexts[cid]


_NO_WRITE_INDEX = ("no write index is defined for alias [%s]. The write index may be explicitly disabled "
                   "using is_write_index=false or the alias points to multiple indices without one being "
                   "designated as a write index")


def _auto_create_allowed(setting, name):
    if setting in (None, "true", True):
        return True
    if setting in ("false", False):
        return False
    allowed = False
    for pat in str(setting).split(","):
        pat = pat.strip()
        if pat.startswith("-") and glob_match(pat[1:], name):
            return False
        if pat.startswith("+"):
            pat = pat[1:]
        if glob_match(pat, name):
            allowed = True
    return allowed
