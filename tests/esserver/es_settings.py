"""Index and cluster settings of the Elasticsearch-compatible test server.

DESIGN: index settings are kept flat with string values ({"index.refresh_interval": "1s"}),
as a real node stores them; requests may send them nested or dotted, with or without the
"index." prefix, and with JSON numbers or booleans, all normalised here. Names are checked
against the prefixes a real node knows (unknown and private settings are refused), values of
the settings the server acts on are checked, static settings are told apart from dynamic
ones, and responses nest them back ({"index": {"refresh_interval": "1s"}}).
CLUSTER_SETTINGS are the defaults of the cluster settings the server knows.
"""

from es_common import EsError, illegal_argument, parse_time_ms


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
