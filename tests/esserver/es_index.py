"""Indices, shards and documents of the Elasticsearch-compatible test server.

DESIGN: each index has 1..N shards chosen by Elasticsearch's murmur3 routing, so custom
routing, _shards counts and _shard_doc behave as on a real node. A shard keeps:
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

import time

from es_analysis import check_analysis_settings
from es_common import (EsError, illegal_argument, index_closed, random_uuid, now_ms,
                       parse_time_ms, shard_for, default_routing_shards)
from es_mapping import Mapping
from es_settings import DEFAULT_SETTINGS


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
