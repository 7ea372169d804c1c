"""Cluster state and documents of the Elasticsearch-compatible test server.

DESIGN: one Cluster object holds everything (indices, aliases, cluster settings, scroll and
point-in-time contexts) behind one re-entrant lock; the HTTP layer parses requests outside
the lock and applies them inside it, so every API call is atomic as on a single-shard node.

Each index has 1..N shards chosen by Elasticsearch's murmur3 routing, so custom routing,
_shards counts and _shard_doc behave as on a real node. A shard keeps:
  - live: id -> Doc, the latest version of every document (realtime GET, versioning);
    re-inserting on update moves the id to the end, as Lucene appends a new doc id;
  - a Reader: an immutable list of the Docs visible to search, rebuilt by refresh. Searches,
    counts and _cat see only the Reader, which gives near-real-time behaviour: a write is
    invisible until refresh (explicit, refresh=true|wait_for, or the refresh_interval,
    checked lazily when someone reads). Scroll and PIT contexts simply keep old Readers.
  - tombstones for deleted ids (version, seq_no) for external versioning, kept
    index.gc_deletes (60 s) like a real engine.
Doc objects are immutable and keep the _source bytes exactly as received, which keeps the
per-document overhead to the source size plus ~150 bytes.
"""

import re
import threading
import time

from es_common import (EsError, illegal_argument, validation_error, index_not_found,
                       index_closed, random_uuid, now_ms, parse_time_ms, glob_match,
                       shard_for, default_routing_shards, auto_id)
from es_mapping import Mapping, DocParser, mapper_error, check_analysis_settings


# ---------------------------------------------------------------------------------------
# flavours

ROOTS = {
    "es7": {
        "name": "node-1", "cluster_name": "elasticsearch", "cluster_uuid": "PDuVxYEbRtKKb8Rias19lg",
        "version": {"number": "7.10.2", "build_flavor": "default", "build_type": "docker",
                    "build_hash": "747e1cc71def077253878a59143c1f785afa92b9",
                    "build_date": "2021-01-13T00:42:12.435326Z", "build_snapshot": False,
                    "lucene_version": "8.7.0", "minimum_wire_compatibility_version": "6.8.0",
                    "minimum_index_compatibility_version": "6.0.0-beta1"},
        "tagline": "You Know, for Search"},
    "es8": {
        "name": "instance-0000000000", "cluster_name": "my_test_cluster",
        "cluster_uuid": "5QaxoN0pRZuOmWSxstBBwQ",
        "version": {"number": "8.12.1", "build_flavor": "default", "build_type": "docker",
                    "build_hash": "6185ba65d27469afabc9bc951cded6c17c21e3f3",
                    "build_date": "2024-02-01T13:07:13.727175297Z", "build_snapshot": False,
                    "lucene_version": "9.9.2", "minimum_wire_compatibility_version": "7.17.0",
                    "minimum_index_compatibility_version": "7.0.0"},
        "tagline": "You Know, for Search"},
    # constructed on the shape of the 8.x body (no 9.x example is kept in the reference data)
    "es9": {
        "name": "instance-0000000000", "cluster_name": "my_test_cluster",
        "cluster_uuid": "x3HUQ2ogTjuw3Ya5oElDDg",
        "version": {"number": "9.1.0", "build_flavor": "default", "build_type": "docker",
                    "build_hash": "5b8e4a1b4bbf2b4f1b5c6e4d4f0d1c3a2b1a0f9e",
                    "build_date": "2025-07-24T16:04:02.000000000Z", "build_snapshot": False,
                    "lucene_version": "10.2.2", "minimum_wire_compatibility_version": "8.19.0",
                    "minimum_index_compatibility_version": "8.0.0"},
        "tagline": "You Know, for Search"},
    "opensearch": {
        "name": "smoketestnode", "cluster_name": "opensearch", "cluster_uuid": "0a5DYAk0Rbi14wqT3TqMiQ",
        "version": {"distribution": "opensearch", "number": "2.13.0", "build_type": "tar",
                    "build_hash": "7ec678d1b7c87d6e779fdef94e33623e1f1e2647",
                    "build_date": "2024-03-26T00:04:51.025238748Z", "build_snapshot": False,
                    "lucene_version": "9.10.0", "minimum_wire_compatibility_version": "7.10.0",
                    "minimum_index_compatibility_version": "7.0.0"},
        "tagline": "The OpenSearch Project: https://opensearch.org/"},
}


class Flavour(object):
    """What differs between the products the server imitates."""

    def __init__(self, name, version_number=None, cluster_name=None):
        if name not in ROOTS:
            raise ValueError("unknown flavour %r (es7, es8, es9, opensearch)" % name)
        import copy
        self.name = name
        self.root = copy.deepcopy(ROOTS[name])
        if version_number:
            self.root["version"]["number"] = version_number
        if cluster_name:
            self.root["cluster_name"] = cluster_name
        self.is_os = name == "opensearch"
        self.is_es = not self.is_os
        self.major = int(self.root["version"]["number"].split(".")[0])
        # REST behaviour switches
        self.doc_type_in_responses = name == "es7"        # "_type": "_doc"
        self.reject_type_in_bulk = name in ("es8", "es9", "opensearch")
        self.pit_api = "opensearch" if self.is_os else "es"
        self.product_header = name in ("es8", "es9")     # X-Elastic-Product: Elasticsearch
        self.compat_versions = {"es8": (7, 8), "es9": (8, 9)}.get(name, ())
        self.vendor_media_types = name in ("es8", "es9")
        self.id_fielddata_default = name in ("es7", "opensearch")
        self.shard_doc = name in ("es8", "es9", "opensearch")
        self.pit_tiebreaker = name in ("es8", "es9")
        self.destructive_requires_name_default = name in ("es8", "es9")
        self.cat_dataset_size = name in ("es8", "es9")
        self.cluster_manager = self.is_os
        self.unknown_query_fmt = ("unknown query [%s]" if name in ("es8", "es9")
                                  else "no [query] registered for [%s]")
        v = self.root["version"]["number"].split(".")
        vid = int(v[0]) * 1000000 + int(v[1]) * 10000 + int(v[2].split("-")[0]) * 100 + 99
        self.index_version = str(vid ^ 0x08000000) if self.is_os else str(vid)

    @property
    def cluster_name(self):
        return self.root["cluster_name"]

    def version_tuple(self):
        return tuple(int(x) for x in re.findall(r"\d+", self.root["version"]["number"])[:3])


# ---------------------------------------------------------------------------------------
# settings

PRIVATE_SETTINGS = {"index.creation_date", "index.uuid", "index.provided_name",
                    "index.version.created", "index.version.upgraded", "index.resize.source.name",
                    "index.resize.source.uuid"}
FINAL_SETTINGS = {"index.number_of_shards", "index.number_of_routing_shards"}
KNOWN_PREFIXES = ("index.analysis.", "index.similarity.", "index.routing.", "index.blocks.",
                  "index.lifecycle.", "index.plugins.", "index.knn", "index.sort.", "index.store.",
                  "index.merge.", "index.translog.", "index.search.", "index.indexing.",
                  "index.query.", "index.mapping.", "index.highlight.", "index.unassigned.",
                  "index.shard.", "index.write.", "index.soft_deletes.", "index.queries.",
                  "index.requests.", "index.time_series.", "index.opendistro.",
                  "index.replication.", "index.remote_store.", "index.composite_index",
                  "index.append_only.", "index.bulk.", "index.optimize_doc_id_lookup.",
                  "index.recovery.", "index.warmer.", "index.fielddata.", "index.flush_after_merge",
                  "index.codec", "index.priority", "index.hidden", "index.auto_expand_replicas",
                  "index.default_pipeline", "index.final_pipeline", "index.gc_deletes",
                  "index.refresh_interval", "index.number_of_shards", "index.number_of_replicas",
                  "index.number_of_routing_shards", "index.max_", "index.load_fixed_bitset",
                  "index.frozen", "index.format", "index.check_on_startup", "index.data_path",
                  "index.mode", "index.look_ahead_time", "index.look_back_time",
                  "index.verified_before_close", "index.routing_partition_size",
                  "index.shard_path", "index.context", "index.ingestion_source", "index.query_string.")
STATIC_PREFIXES = ("index.analysis.", "index.similarity.", "index.sort.", "index.codec",
                   "index.store.type", "index.knn", "index.query_string.", "index.mapping.coerce",
                   "index.routing_partition_size", "index.mode", "index.soft_deletes.enabled",
                   "index.number_of_shards", "index.number_of_routing_shards",
                   "index.replication.type", "index.append_only.", "index.load_fixed_bitset_filters_eagerly")
DEFAULT_SETTINGS = {
    "index.refresh_interval": "1s", "index.max_result_window": "10000",
    "index.max_inner_result_window": "100", "index.max_rescore_window": "10000",
    "index.max_docvalue_fields_search": "100", "index.max_script_fields": "32",
    "index.max_slices_per_scroll": "1024", "index.max_regex_length": "1000",
    "index.max_terms_count": "65536", "index.mapping.total_fields.limit": "1000",
    "index.mapping.depth.limit": "20", "index.mapping.nested_fields.limit": "50",
    "index.mapping.nested_objects.limit": "10000", "index.gc_deletes": "60s",
    "index.hidden": "false", "index.auto_expand_replicas": "false",
    "index.translog.durability": "REQUEST", "index.blocks.read_only": "false",
    "index.blocks.write": "false", "index.blocks.read": "false", "index.blocks.metadata": "false",
    "index.blocks.read_only_allow_delete": "false", "index.codec": "default",
    "index.search.idle.after": "30s", "index.query.default_field": ["*"],
    "index.max_ngram_diff": "1", "index.max_shingle_diff": "3",
    "index.max_refresh_listeners": "1000", "index.priority": "1",
}


def flatten_settings(obj, prefix=""):
    """Nested or dotted settings -> flat {"a.b": value}."""
    out = {}
    for k, v in obj.items():
        key = prefix + k
        if isinstance(v, dict):
            out.update(flatten_settings(v, key + "."))
        else:
            out[key] = v
    return out


def setting_str(v):
    if v is None:
        return None
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, list):
        return [setting_str(x) for x in v]
    if isinstance(v, float) and v == int(v):
        return str(v)
    return str(v)


def normalize_index_settings(body):
    """The "settings" of create index / put settings -> {"index.x": "value"|None|[...]}."""
    if not isinstance(body, dict):
        raise EsError(400, "settings_exception", "Failed to load settings from [%s]" % body)
    flat = flatten_settings(body)
    out = {}
    for k, v in flat.items():
        key = k if k.startswith("index.") else "index." + k
        out[key] = setting_str(v)
    return out


def check_setting_names(settings, is_update=False):
    for k, v in settings.items():
        if k in PRIVATE_SETTINGS:
            raise illegal_argument("private index setting [%s] can not be set explicitly" % k)
        if not any(k.startswith(p) for p in KNOWN_PREFIXES):
            raise illegal_argument(
                "unknown setting [%s] please check that any required plugins are installed, or check "
                "the breaking changes documentation for removed settings" % k)


def _int_setting(settings, key, lo=None, hi=None):
    v = settings.get(key)
    if v is None:
        return None
    try:
        n = int(v)
    except (TypeError, ValueError):
        raise illegal_argument("Failed to parse value [%s] for setting [%s]" % (v, key))
    if lo is not None and n < lo:
        raise illegal_argument("Failed to parse value [%s] for setting [%s] must be >= %d" % (v, key, lo))
    if hi is not None and n > hi:
        raise illegal_argument("Failed to parse value [%s] for setting [%s] must be <= %d" % (v, key, hi))
    return n


def check_setting_values(settings):
    _int_setting(settings, "index.number_of_shards", 1, 1024)
    _int_setting(settings, "index.number_of_replicas", 0)
    _int_setting(settings, "index.number_of_routing_shards", 1, 1024 * 1024)
    _int_setting(settings, "index.max_result_window", 1)
    _int_setting(settings, "index.mapping.total_fields.limit", 0)
    _int_setting(settings, "index.mapping.nested_objects.limit", 0)
    for key in ("index.refresh_interval", "index.gc_deletes", "index.search.idle.after",
                "index.translog.sync_interval"):
        v = settings.get(key)
        if v is not None:
            parse_time_ms(v, key)
    for key, v in settings.items():
        if (key.startswith("index.blocks.") or key in ("index.hidden",)) and v is not None:
            if v not in ("true", "false"):
                raise illegal_argument("Failed to parse value [%s] as only [true] or [false] are allowed." % v)
    v = settings.get("index.translog.durability")
    if v is not None and v.upper() not in ("REQUEST", "ASYNC"):
        raise illegal_argument("No enum constant org.elasticsearch.index.translog.Translog.Durability.%s" % v)


def is_dynamic_setting(key):
    return not any(key.startswith(p) for p in STATIC_PREFIXES)


def nest_settings(flat):
    """{"index.a.b": "1"} -> {"index": {"a": {"b": "1"}}}, keys sorted like a real node."""
    out = {}
    for k in sorted(flat):
        parts = k.split(".")
        cur = out
        for p in parts[:-1]:
            nxt = cur.get(p)
            if not isinstance(nxt, dict):
                nxt = {}
                cur[p] = nxt
            cur = nxt
        cur[parts[-1]] = flat[k]
    return out


# ---------------------------------------------------------------------------------------
# documents, shards, readers

class Doc(object):
    __slots__ = ("id", "source", "version", "seq_no", "routing")

    def __init__(self, doc_id, source, version, seq_no, routing):
        self.id = doc_id
        self.source = source
        self.version = version
        self.seq_no = seq_no
        self.routing = routing


class Reader(object):
    """An immutable point-in-time view of one shard (what a refresh publishes)."""
    _gen = [0]

    def __init__(self, shard, docs):
        Reader._gen[0] += 1
        self.gen = Reader._gen[0]
        self.shard = shard
        self.index = shard.index
        self.mapping = shard.index.mapping
        self.docs = docs
        self.cache = {}
        self._pos = None

    def position(self, doc_id):
        if self._pos is None:
            self._pos = {d.id: i for i, d in enumerate(self.docs)}
        return self._pos.get(doc_id)


class Shard(object):
    def __init__(self, index, num):
        self.index = index
        self.num = num
        self.live = {}
        self.tombstones = {}
        self.next_seq_no = 0
        self.deleted = 0
        self.reader = Reader(self, [])
        self.dirty = False

    def refresh(self):
        if self.dirty:
            self.reader = Reader(self, list(self.live.values()))
            self.dirty = False
            return True
        return False

    def tombstone(self, doc_id, now):
        t = self.tombstones.get(doc_id)
        if t is None:
            return None
        if now - t[2] > self.index.gc_deletes_ms():
            del self.tombstones[doc_id]
            return None
        return t


class Index(object):
    def __init__(self, cluster, name, settings, mapping_def):
        self.cluster = cluster
        self.name = name
        self.uuid = random_uuid()
        self.created = now_ms()
        self.settings = dict(settings)
        self.explicit = set(k for k, v in settings.items() if v is not None)
        self.num_shards = int(self.settings.get("index.number_of_shards") or 1)
        self.settings["index.number_of_shards"] = str(self.num_shards)
        if self.settings.get("index.number_of_replicas") is None:
            self.settings["index.number_of_replicas"] = "1"
        rs = self.settings.get("index.number_of_routing_shards")
        self.routing_shards = int(rs) if rs else default_routing_shards(self.num_shards)
        if self.routing_shards % self.num_shards:
            raise illegal_argument("the number of source shards [%d] must be a factor of [%d]"
                                   % (self.num_shards, self.routing_shards))
        self.settings = {k: v for k, v in self.settings.items() if v is not None}
        check_analysis_settings(self.settings)
        self.mapping = Mapping(mapping_def, self.settings)
        self.shards = [Shard(self, i) for i in range(self.num_shards)]
        self.state = "open"
        self.last_refresh = time.monotonic()

    # -- settings helpers ---------------------------------------------------------------

    def setting(self, key):
        v = self.settings.get(key)
        return DEFAULT_SETTINGS.get(key) if v is None else v

    def replicas(self):
        return int(self.settings.get("index.number_of_replicas", "1"))

    def hidden(self):
        return self.settings.get("index.hidden") == "true"

    def gc_deletes_ms(self):
        return parse_time_ms(self.setting("index.gc_deletes"), "index.gc_deletes")

    def health(self):
        if self.state == "close":
            return "green"
        return "yellow" if self.replicas() > 0 else "green"

    def shards_header(self):
        return {"total": 1 + self.replicas(), "successful": 1, "failed": 0}

    def all_settings(self, flavour):
        s = dict(self.settings)
        s["index.creation_date"] = str(self.created)
        s["index.uuid"] = self.uuid
        s["index.provided_name"] = self.name
        s["index.version.created"] = flavour.index_version
        if flavour.name in ("es8", "es9"):
            s.setdefault("index.routing.allocation.include._tier_preference", "data_content")
        if flavour.is_os:
            s.setdefault("index.replication.type", "DOCUMENT")
        return s

    # -- routing and refresh --------------------------------------------------------------

    def shard_of(self, doc_id, routing):
        if self.num_shards == 1:
            return self.shards[0]
        return self.shards[shard_for(routing if routing is not None else doc_id,
                                     self.num_shards, self.routing_shards)]

    def refresh(self):
        changed = False
        for s in self.shards:
            changed = s.refresh() or changed
        self.last_refresh = time.monotonic()
        return changed

    def maybe_scheduled_refresh(self):
        """The periodic refresh, evaluated lazily: a reader arriving after refresh_interval
        has elapsed since the last refresh sees what the scheduled refresh would have
        published."""
        ri = self.setting("index.refresh_interval")
        ms = parse_time_ms(ri, "index.refresh_interval")
        if ms is None or ms < 0:
            return
        if (time.monotonic() - self.last_refresh) * 1000.0 >= ms:
            self.refresh()

    def doc_count(self):
        return sum(len(s.reader.docs) for s in self.shards)

    def deleted_count(self):
        return sum(s.deleted for s in self.shards)

    def store_bytes(self):
        n = 0
        for s in self.shards:
            n += 225 + sum(len(d.source) + 48 for d in s.reader.docs)
        return n

    def check_block(self, kind, flavour):
        """kind: "write" or "metadata" or "read". Raises cluster_block_exception."""
        s = self.settings
        if "index.blocks.read_only" not in s and "index.blocks.write" not in s and \
                "index.blocks.read_only_allow_delete" not in s and "index.blocks.read" not in s and \
                "index.blocks.metadata" not in s:
            return
        if kind in ("write", "metadata"):
            if s.get("index.blocks.read_only") == "true":
                raise EsError(403, "cluster_block_exception",
                              "index [%s] blocked by: [FORBIDDEN/5/index read-only (api)];" % self.name)
            if kind == "write" and s.get("index.blocks.read_only_allow_delete") == "true":
                raise EsError(429, "cluster_block_exception",
                              "index [%s] blocked by: [TOO_MANY_REQUESTS/12/disk usage exceeded "
                              "flood-stage watermark, index has read-only-allow-delete block];" % self.name)
            if kind == "write" and s.get("index.blocks.write") == "true":
                raise EsError(403, "cluster_block_exception",
                              "index [%s] blocked by: [FORBIDDEN/8/index write (api)];" % self.name)
            if kind == "metadata" and s.get("index.blocks.metadata") == "true":
                raise EsError(403, "cluster_block_exception",
                              "index [%s] blocked by: [FORBIDDEN/9/index metadata (api)];" % self.name)
        if kind == "read" and s.get("index.blocks.read") == "true":
            raise EsError(403, "cluster_block_exception",
                          "index [%s] blocked by: [FORBIDDEN/7/index read (api)];" % self.name)

    def check_open(self):
        if self.state != "open":
            raise index_closed(self.name, self.uuid)


# ---------------------------------------------------------------------------------------
# name validation

_INVALID_CHARS = ['\\', '/', '*', '?', '"', '<', '>', '|', ' ', ',']
_INVALID_TEXT = "[ , \", *, \\, <, |, ,, >, /, ?]"


def validate_index_or_alias_name(name, etype, what):
    def bad(desc):
        return EsError(400, etype, "Invalid %s name [%s], %s" % (what, name, desc),
                       {"index_uuid": "_na_", "index": name} if etype == "invalid_index_name_exception"
                       else {})
    if any(c in name for c in _INVALID_CHARS):
        raise bad("must not contain the following characters " + _INVALID_TEXT)
    if name == "":
        raise bad("must not be empty")
    if "#" in name:
        raise bad("must not contain '#'")
    if ":" in name:
        raise bad("must not contain ':'")
    if name[0] in "_-+":
        raise bad("must not start with '_', '-', or '+'")
    n = len(name.encode("utf-8"))
    if n > 255:
        raise bad("index name is too long, (%d > 255)" % n)
    if name in (".", ".."):
        raise bad("must not be '.' or '..'")


def validate_index_name(name):
    validate_index_or_alias_name(name, "invalid_index_name_exception", "index")
    if name.lower() != name:
        raise EsError(400, "invalid_index_name_exception",
                      "Invalid index name [%s], must be lowercase" % name,
                      {"index_uuid": "_na_", "index": name})


def validate_doc_id(doc_id):
    if doc_id == "":
        raise illegal_argument("if _id is specified it must not be empty")
    n = len(doc_id.encode("utf-8"))
    if n > 512:
        raise validation_error("id [%s] is too long, must be no longer than 512 bytes but was: %d"
                               % (doc_id, n))


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


# ---------------------------------------------------------------------------------------
# the cluster

CLUSTER_SETTINGS = {
    "search.max_keep_alive": "24h", "search.default_keep_alive": "5m",
    "action.auto_create_index": "true", "action.destructive_requires_name": None,
    "indices.id_field_data.enabled": None, "search.max_open_scroll_context": "500",
    "cluster.max_shards_per_node": "1000", "point_in_time.max_keep_alive": "24h",
    "search.max_buckets": "65535", "cluster.routing.allocation.enable": "all",
    "cluster.routing.allocation.disk.threshold_enabled": "true",
    "cluster.routing.allocation.disk.watermark.low": "85%",
    "cluster.routing.allocation.disk.watermark.high": "90%",
    "cluster.routing.allocation.disk.watermark.flood_stage": "95%",
    "logger.org.elasticsearch": None, "indices.recovery.max_bytes_per_sec": "40mb",
    "search.allow_expensive_queries": "true", "cluster.blocks.read_only": "false",
    "search.default_search_timeout": "-1", "indices.breaker.total.limit": "95%",
}


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


# ---------------------------------------------------------------------------------------
# document operations (shared by the single-document APIs and _bulk)

class WriteOp(object):
    """One index/create/update/delete operation after parsing."""
    __slots__ = ("action", "index", "id", "routing", "version", "version_type", "if_seq_no",
                 "if_primary_term", "require_alias", "source", "source_obj", "pipeline",
                 "update", "fetch_source", "op_type_create", "auto_id")

    def __init__(self, action):
        self.action = action
        self.index = None
        self.id = None
        self.routing = None
        self.version = None
        self.version_type = "internal"
        self.if_seq_no = None
        self.if_primary_term = None
        self.require_alias = False
        self.source = None
        self.source_obj = None
        self.pipeline = None
        self.update = None
        self.fetch_source = None
        self.op_type_create = False
        self.auto_id = False


def validate_op(op):
    """Request-level validation (ActionRequestValidationException) of one op."""
    if op.version_type == "internal" and op.version is None and op.if_seq_no is None and \
            op.if_primary_term is None and op.pipeline is None and op.id is not None and \
            0 < len(op.id) <= 128:
        return      # the common case: nothing to check
    errs = []
    vt = op.version_type
    if vt not in ("internal", "external", "external_gte", "force"):
        raise illegal_argument("No version type match [%s]" % vt)
    if vt == "force":
        errs.append("version type [force] may no longer be used")
    if op.action == "create" or op.op_type_create:
        if vt != "internal":
            errs.append("create operations only support internal versioning. use index instead")
        if op.version is not None and vt == "internal" and op.version != -3:
            errs.append("create operations do not support explicit versions. use index instead")
    if op.action in ("index", "delete") and not op.op_type_create:
        if vt == "internal" and op.version is not None:
            errs.append("internal versioning can not be used for optimistic concurrency control. "
                        "Please use `if_seq_no` and `if_primary_term` instead")
        if vt in ("external", "external_gte"):
            if op.version is None:
                errs.append("version type [%s] requires a version" % vt)
            elif op.version < 0:
                errs.append("illegal version value [%d] for version type [%s]" % (op.version, vt.upper()))
    if op.if_seq_no is not None or op.if_primary_term is not None:
        if op.version is not None:
            errs.append("compare and write operations can not use versioning")
        if op.if_seq_no is not None and op.if_seq_no < 0:
            errs.append("sequence number must be non negative. got [%d]." % op.if_seq_no)
        if op.if_primary_term is not None and op.if_primary_term <= 0 and op.if_seq_no is not None:
            errs.append("primary term must be positive. got [%d]." % op.if_primary_term)
        if op.if_seq_no is not None and op.if_primary_term is None:
            errs.append("ifSeqNo is set, but primary term is [0]")
        if op.if_primary_term is not None and op.if_seq_no is None:
            errs.append("ifPrimaryTerm [%d] is set but ifSeqNo is not" % op.if_primary_term)
    if op.id is not None:
        if op.id == "":
            raise illegal_argument("if _id is specified it must not be empty")
        n = len(op.id.encode("utf-8"))
        if n > 512:
            errs.append("id [%s] is too long, must be no longer than 512 bytes but was: %d" % (op.id, n))
    elif op.action in ("delete", "update"):
        errs.append("id is missing")
    if op.pipeline is not None and op.pipeline != "_none":
        raise illegal_argument("pipeline with id [%s] does not exist" % op.pipeline)
    if errs:
        raise validation_error(errs)


def _conflict(idx, shard, doc_id, reason):
    return EsError(409, "version_conflict_engine_exception", "[%s]: version conflict, %s" % (doc_id, reason),
                   {"index_uuid": idx.uuid, "shard": str(shard.num), "index": idx.name})


def document_missing(idx, shard_num, doc_id):
    return EsError(404, "document_missing_exception", "[%s]: document missing" % doc_id,
                   {"index_uuid": idx.uuid, "shard": str(shard_num), "index": idx.name})


def check_routing_required(idx, op_routing, doc_id):
    r = idx.mapping.root.get("_routing")
    if isinstance(r, dict) and r.get("required") in (True, "true") and op_routing is None:
        raise EsError(400, "routing_missing_exception",
                      "routing is required for [%s]/[%s]" % (idx.name, doc_id),
                      {"index_uuid": idx.uuid, "index": idx.name})


def apply_index(cluster, idx, op, flavour):
    """Executes an index/create op on idx (lock held). Returns (status, result dict)."""
    idx.check_open()
    idx.check_block("write", flavour)
    if op.id is None:
        op.id = auto_id()
        op.auto_id = True
    if idx.settings.get("index.append_only.enabled") == "true" and not op.auto_id:
        raise EsError(400, "validation_exception",
                      "Validation Failed: 1: Operation [%s] is not allowed with a custom document id %s as setting "
                      "`index.append_only.enabled` is enabled for this index: %s;"
                      % ("CREATE" if op.action == "create" else "INDEX", op.id, idx.name))
    check_routing_required(idx, op.routing, op.id)
    shard = idx.shard_of(op.id, op.routing)
    now = time.monotonic()
    cur = shard.live.get(op.id)
    create = op.action == "create" or op.op_type_create
    # versioning and concurrency control
    if op.if_seq_no is not None:
        if cur is None:
            raise _conflict(idx, shard, op.id, "required seqNo [%d], primary term [%d]. but no document "
                                               "was found" % (op.if_seq_no, op.if_primary_term))
        if cur.seq_no != op.if_seq_no or op.if_primary_term != 1:
            raise _conflict(idx, shard, op.id, "required seqNo [%d], primary term [%d]. current document "
                                               "has seqNo [%d] and primary term [1]"
                            % (op.if_seq_no, op.if_primary_term, cur.seq_no))
    if create and cur is not None:
        raise _conflict(idx, shard, op.id, "document already exists (current version [%d])" % cur.version)
    tomb = shard.tombstone(op.id, now) if cur is None else None
    cur_version = cur.version if cur is not None else (tomb[0] if tomb else None)
    if op.version_type == "external":
        if cur_version is not None and cur_version >= op.version:
            raise _conflict(idx, shard, op.id, "current version [%d] is higher or equal to the one "
                                               "provided [%d]" % (cur_version, op.version))
        new_version = op.version
    elif op.version_type == "external_gte":
        if cur_version is not None and cur_version > op.version:
            raise _conflict(idx, shard, op.id, "current version [%d] is higher than the one provided [%d]"
                            % (cur_version, op.version))
        new_version = op.version
    else:
        new_version = (cur_version or 0) + 1
    # mapping
    parser = DocParser(idx.mapping, idx.settings, op.id, flavour.is_os)
    update = parser.parse(op.source_obj)
    if update:
        idx.mapping.merge({"properties": update}, validate=False)
    seq = shard.next_seq_no
    shard.next_seq_no += 1
    doc = Doc(op.id, op.source, new_version, seq, op.routing)
    if cur is not None:
        del shard.live[op.id]
        shard.deleted += 1
    elif tomb is not None:
        del shard.tombstones[op.id]
    shard.live[op.id] = doc
    shard.dirty = True
    res = write_result(idx, op.id, doc.version, "updated" if cur is not None else "created", seq, flavour)
    return (200 if cur is not None else 201), res, shard


def apply_delete(cluster, idx, op, flavour):
    idx.check_open()
    idx.check_block("write", flavour) if idx.settings.get("index.blocks.read_only_allow_delete") != "true" \
        else idx.check_block("metadata", flavour)
    check_routing_required(idx, op.routing, op.id)
    shard = idx.shard_of(op.id, op.routing)
    now = time.monotonic()
    cur = shard.live.get(op.id)
    if op.if_seq_no is not None:
        if cur is None:
            raise _conflict(idx, shard, op.id, "required seqNo [%d], primary term [%d]. but no document "
                                               "was found" % (op.if_seq_no, op.if_primary_term))
        if cur.seq_no != op.if_seq_no or op.if_primary_term != 1:
            raise _conflict(idx, shard, op.id, "required seqNo [%d], primary term [%d]. current document "
                                               "has seqNo [%d] and primary term [1]"
                            % (op.if_seq_no, op.if_primary_term, cur.seq_no))
    tomb = shard.tombstone(op.id, now) if cur is None else None
    cur_version = cur.version if cur is not None else (tomb[0] if tomb else None)
    if op.version_type == "external":
        if cur_version is not None and cur_version >= op.version:
            raise _conflict(idx, shard, op.id, "current version [%d] is higher or equal to the one "
                                               "provided [%d]" % (cur_version, op.version))
        new_version = op.version
    elif op.version_type == "external_gte":
        if cur_version is not None and cur_version > op.version:
            raise _conflict(idx, shard, op.id, "current version [%d] is higher than the one provided [%d]"
                            % (cur_version, op.version))
        new_version = op.version
    else:
        new_version = (cur_version or 0) + 1
    seq = shard.next_seq_no
    shard.next_seq_no += 1
    shard.tombstones[op.id] = (new_version, seq, now)
    if cur is not None:
        del shard.live[op.id]
        shard.deleted += 1
        shard.dirty = True
        result, status = "deleted", 200
    else:
        result, status = "not_found", 404
    return status, write_result(idx, op.id, new_version, result, seq, flavour), shard


def deep_merge(base, patch):
    """Partial update merge: objects merge recursively, everything else is replaced.
    Returns (merged, changed)."""
    out = dict(base)
    changed = False
    for k, v in patch.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            m, c = deep_merge(out[k], v)
            if c:
                out[k] = m
                changed = True
        elif k not in out or out[k] != v or type(out[k]) is not type(v):
            out[k] = v
            changed = True
    return out, changed


def write_result(idx, doc_id, version, result, seq, flavour, shards=None):
    r = {"_index": idx.name}
    if flavour.doc_type_in_responses:
        r["_type"] = "_doc"
    r["_id"] = doc_id
    r["_version"] = version
    r["result"] = result
    r["_shards"] = shards if shards is not None else idx.shards_header()
    r["_seq_no"] = seq
    r["_primary_term"] = 1
    return r
