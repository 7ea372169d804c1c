"""REST routing of the Elasticsearch-compatible test server.

DESIGN: a Router maps (method, path) to a handler the way Elasticsearch's PathTrie does
(literal segments win over {placeholders}; a known path with the wrong method is a 405 with
an Allow header; an unknown path is a 400 "no handler found"). Each route declares the URL
parameters it accepts; anything else is rejected with the "contains unrecognized parameter"
error a real node sends, so a client cannot rely on a parameter the server silently ignores.

Handlers receive an ApiRequest (path parts, parameters, body bytes) and return an
ApiResponse (es_rest.py); they raise EsError for errors. Parsing happens outside the cluster
lock; every state change happens inside it. The handlers are grouped by API family:
es_api_cluster.py (root, cluster, _cat), es_api_indices.py (indices, mappings, settings,
aliases), es_api_docs.py (single documents, _mget), es_api_bulk.py (_bulk),
es_api_search.py (_search, scroll, _count, _delete_by_query, point in time). The control
endpoint (/_test/...) is not an Elasticsearch API and lives in server.py.
"""

import difflib
from urllib.parse import unquote

from es_common import illegal_argument
from es_api_cluster import (h_cat_aliases, h_cat_count, h_cat_health, h_cat_indices, h_cluster_health,
                            h_cluster_settings_get, h_cluster_settings_put, h_cluster_state, h_info)
from es_api_indices import (h_alias_delete, h_alias_exists, h_alias_get, h_alias_put, h_aliases_update,
                            h_flush, h_index_close, h_index_create, h_index_delete, h_index_exists,
                            h_index_get, h_index_open, h_mapping_get, h_mapping_put, h_refresh,
                            h_settings_get, h_settings_put, h_stats)
from es_api_docs import (h_doc_delete, h_doc_get, h_doc_head, h_doc_index, h_doc_update, h_mget, h_source_get,
                         h_source_head)
from es_api_bulk import h_bulk
from es_api_search import (h_clear_scroll, h_count, h_delete_by_query, h_pit_all_os, h_pit_close_es,
                           h_pit_delete_all_os, h_pit_delete_os, h_pit_open_es, h_pit_open_os, h_scroll,
                           h_search, SEARCH_PARAMS)

COMMON_PARAMS = {"pretty", "human", "error_trace", "filter_path", "source", "source_content_type"}


# ---------------------------------------------------------------------------------------
# routing

class Route(object):
    def __init__(self, methods, path, handler, params=(), body=True, flavours=None):
        self.methods = set(methods)
        self.path = path
        self.segs = [s for s in path.split("/") if s]
        self.handler = handler
        self.params = set(params) | COMMON_PARAMS
        self.body = body
        self.flavours = flavours

    def match(self, segs):
        if len(segs) != len(self.segs):
            return None
        parts = {}
        for want, got in zip(self.segs, segs):
            if want.startswith("{"):
                parts[want[1:-1]] = got
            elif want != got:
                return None
        return parts

    def literal_score(self):
        return tuple(0 if s.startswith("{") else 1 for s in self.segs)


class Router(object):
    def __init__(self, flavour):
        self.flavour = flavour
        self.routes = [r for r in ROUTES if r.flavours is None or flavour.name in r.flavours]

    def find(self, method, segs):
        """Returns (route, parts) or raises PlainError (400 no handler / 405)."""
        cands = []
        for r in self.routes:
            p = r.match(segs)
            if p is not None:
                cands.append((r, p))
        if not cands:
            return None, None, set()
        cands.sort(key=lambda rp: rp[0].literal_score(), reverse=True)
        allowed = set()
        best = cands[0][0].literal_score()
        for r, p in cands:
            if r.literal_score() != best:
                # a less specific route only counts if no more specific one exists for the method
                pass
            if method in r.methods or (method == "HEAD" and "GET" in r.methods):
                return r, p, None
            allowed |= r.methods
        return None, None, allowed


def split_path(path):
    return [unquote(s) for s in path.split("/") if s != ""]


def check_params(req, route):
    unknown = [p for p in req.params if p not in route.params and p not in req.parts]
    if unknown:
        unknown.sort()
        msgs = []
        for u in unknown:
            close = difflib.get_close_matches(u, sorted(route.params - COMMON_PARAMS), n=1, cutoff=0.75)
            msgs.append("[%s]%s" % (u, (" -> did you mean [%s]?" % close[0]) if close else ""))
        raise illegal_argument("request [%s] contains unrecognized parameter%s: %s"
                               % (req.path, "s" if len(unknown) > 1 else "", ", ".join(msgs)))


# ---------------------------------------------------------------------------------------
# route table

IDX_OPTS = ("allow_no_indices", "expand_wildcards", "ignore_unavailable")
MASTER = ("master_timeout", "timeout", "cluster_manager_timeout")

ROUTES = [
    Route(["GET", "HEAD"], "/", h_info, body=False),
    Route(["GET"], "/_cluster/health", h_cluster_health,
          ("wait_for_status", "timeout", "level", "local", "master_timeout", "cluster_manager_timeout",
           "wait_for_active_shards", "wait_for_nodes", "wait_for_events", "wait_for_no_relocating_shards",
           "wait_for_no_initializing_shards", "expand_wildcards", "awareness_attribute", "ensure_node_weighed_in",
           "return_200_for_cluster_health_timeout")),
    Route(["GET"], "/_cluster/health/{index}", h_cluster_health,
          ("wait_for_status", "timeout", "level", "local", "master_timeout", "cluster_manager_timeout",
           "wait_for_active_shards", "wait_for_nodes", "wait_for_events", "wait_for_no_relocating_shards",
           "wait_for_no_initializing_shards", "expand_wildcards", "awareness_attribute", "ensure_node_weighed_in")),
    Route(["GET"], "/_cluster/state", h_cluster_state, MASTER + IDX_OPTS + ("local", "flat_settings",
          "wait_for_metadata_version", "wait_for_timeout")),
    Route(["GET"], "/_cluster/state/{metric}", h_cluster_state, MASTER + IDX_OPTS + ("local", "flat_settings",
          "wait_for_metadata_version", "wait_for_timeout")),
    Route(["GET"], "/_cluster/state/{metric}/{index}", h_cluster_state, MASTER + IDX_OPTS + ("local",
          "flat_settings", "wait_for_metadata_version", "wait_for_timeout")),
    Route(["GET"], "/_cluster/settings", h_cluster_settings_get, MASTER + ("flat_settings", "include_defaults")),
    Route(["PUT"], "/_cluster/settings", h_cluster_settings_put, MASTER + ("flat_settings",)),
    # documents
    Route(["PUT", "POST"], "/{index}/_doc/{id}", h_doc_index,
          ("if_primary_term", "if_seq_no", "op_type", "pipeline", "refresh", "require_alias", "routing",
           "timeout", "version", "version_type", "wait_for_active_shards")),
    Route(["POST"], "/{index}/_doc", h_doc_index,
          ("if_primary_term", "if_seq_no", "op_type", "pipeline", "refresh", "require_alias", "routing",
           "timeout", "version", "version_type", "wait_for_active_shards")),
    Route(["PUT", "POST"], "/{index}/_create/{id}", h_doc_index,
          ("pipeline", "refresh", "routing", "timeout", "version", "version_type", "wait_for_active_shards",
           "require_alias")),
    Route(["GET"], "/{index}/_doc/{id}", h_doc_get,
          ("_source", "_source_excludes", "_source_includes", "preference", "realtime", "refresh", "routing",
           "stored_fields", "version", "version_type"), body=False),
    Route(["HEAD"], "/{index}/_doc/{id}", h_doc_head,
          ("_source", "_source_excludes", "_source_includes", "preference", "realtime", "refresh", "routing",
           "stored_fields", "version", "version_type"), body=False),
    Route(["DELETE"], "/{index}/_doc/{id}", h_doc_delete,
          ("if_primary_term", "if_seq_no", "refresh", "routing", "timeout", "version", "version_type",
           "wait_for_active_shards"), body=False),
    Route(["GET"], "/{index}/_source/{id}", h_source_get,
          ("_source", "_source_excludes", "_source_includes", "preference", "realtime", "refresh", "routing",
           "version", "version_type", "stored_fields"), body=False),
    Route(["HEAD"], "/{index}/_source/{id}", h_source_head,
          ("_source", "_source_excludes", "_source_includes", "preference", "realtime", "refresh", "routing",
           "version", "version_type"), body=False),
    Route(["POST"], "/{index}/_update/{id}", h_doc_update,
          ("_source", "_source_excludes", "_source_includes", "if_primary_term", "if_seq_no", "lang", "refresh",
           "require_alias", "retry_on_conflict", "routing", "timeout", "wait_for_active_shards", "version",
           "version_type")),
    Route(["GET", "POST"], "/_mget", h_mget, ("_source", "_source_excludes", "_source_includes", "preference",
                                              "realtime", "refresh", "routing", "stored_fields")),
    Route(["GET", "POST"], "/{index}/_mget", h_mget, ("_source", "_source_excludes", "_source_includes",
                                                      "preference", "realtime", "refresh", "routing",
                                                      "stored_fields")),
    Route(["POST", "PUT"], "/_bulk", h_bulk, ("_source", "_source_excludes", "_source_includes", "pipeline",
                                              "refresh", "require_alias", "routing", "timeout", "type",
                                              "wait_for_active_shards", "batch_size", "list_executed_pipelines",
                                              "require_data_stream")),
    Route(["POST", "PUT"], "/{index}/_bulk", h_bulk, ("_source", "_source_excludes", "_source_includes",
                                                      "pipeline", "refresh", "require_alias", "routing",
                                                      "timeout", "type", "wait_for_active_shards", "batch_size",
                                                      "list_executed_pipelines", "require_data_stream")),
    # search
    Route(["GET", "POST"], "/_search", h_search, SEARCH_PARAMS),
    Route(["GET", "POST"], "/{index}/_search", h_search, SEARCH_PARAMS),
    Route(["GET", "POST"], "/_count", h_count, IDX_OPTS + ("analyze_wildcard", "analyzer", "default_operator",
                                                           "df", "ignore_throttled", "lenient", "min_score",
                                                           "preference", "q", "routing", "terminate_after")),
    Route(["GET", "POST"], "/{index}/_count", h_count, IDX_OPTS + ("analyze_wildcard", "analyzer",
                                                                   "default_operator", "df", "ignore_throttled",
                                                                   "lenient", "min_score", "preference", "q",
                                                                   "routing", "terminate_after")),
    Route(["GET", "POST"], "/_search/scroll", h_scroll, ("rest_total_hits_as_int", "scroll", "scroll_id")),
    Route(["GET", "POST"], "/_search/scroll/{scroll_id}", h_scroll, ("rest_total_hits_as_int", "scroll")),
    Route(["DELETE"], "/_search/scroll", h_clear_scroll, ("scroll_id",)),
    Route(["DELETE"], "/_search/scroll/{scroll_id}", h_clear_scroll, ()),
    Route(["POST"], "/{index}/_delete_by_query", h_delete_by_query, IDX_OPTS + (
        "refresh", "conflicts", "scroll_size", "wait_for_completion", "requests_per_second", "slices",
        "timeout", "wait_for_active_shards", "max_docs", "scroll", "search_timeout", "search_type",
        "preference", "analyzer", "analyze_wildcard", "default_operator", "df", "lenient", "q", "routing",
        "terminate_after", "version", "request_cache")),
    Route(["POST"], "/{index}/_pit", h_pit_open_es, IDX_OPTS + ("keep_alive", "routing", "preference",
                                                               "allow_partial_search_results",
                                                               "max_concurrent_shard_requests"),
          flavours=("es7", "es8", "es9")),
    Route(["DELETE"], "/_pit", h_pit_close_es, (), flavours=("es7", "es8", "es9")),
    Route(["POST"], "/{index}/_search/point_in_time", h_pit_open_os,
          ("keep_alive", "routing", "preference", "allow_partial_pit_creation", "expand_wildcards"),
          flavours=("opensearch",)),
    Route(["DELETE"], "/_search/point_in_time", h_pit_delete_os, (), flavours=("opensearch",)),
    Route(["DELETE"], "/_search/point_in_time/_all", h_pit_delete_all_os, (), flavours=("opensearch",)),
    Route(["GET"], "/_search/point_in_time/_all", h_pit_all_os, (), flavours=("opensearch",)),
    # indices
    Route(["PUT"], "/{index}", h_index_create, ("wait_for_active_shards", "timeout", "master_timeout",
                                                "cluster_manager_timeout", "include_type_name")),
    Route(["HEAD"], "/{index}", h_index_exists, IDX_OPTS + ("flat_settings", "include_defaults", "local"),
          body=False),
    Route(["GET"], "/{index}", h_index_get, IDX_OPTS + ("flat_settings", "include_defaults", "local",
                                                        "master_timeout", "cluster_manager_timeout",
                                                        "include_type_name", "features"), body=False),
    Route(["DELETE"], "/{index}", h_index_delete, IDX_OPTS + MASTER, body=False),
    Route(["POST"], "/{index}/_close", h_index_close, IDX_OPTS + MASTER + ("wait_for_active_shards",)),
    Route(["POST"], "/{index}/_open", h_index_open, IDX_OPTS + MASTER + ("wait_for_active_shards",
                                                                         "task_execution_timeout",
                                                                         "wait_for_completion")),
    Route(["GET"], "/_mapping", h_mapping_get, IDX_OPTS + ("local", "master_timeout", "cluster_manager_timeout",
                                                           "include_type_name")),
    Route(["GET"], "/{index}/_mapping", h_mapping_get, IDX_OPTS + ("local", "master_timeout",
                                                                   "cluster_manager_timeout", "include_type_name")),
    Route(["PUT", "POST"], "/{index}/_mapping", h_mapping_put, IDX_OPTS + MASTER + ("write_index_only",
                                                                                    "include_type_name")),
    Route(["GET"], "/_settings", h_settings_get, IDX_OPTS + ("flat_settings", "include_defaults", "local",
                                                             "master_timeout", "cluster_manager_timeout")),
    Route(["GET"], "/{index}/_settings", h_settings_get, IDX_OPTS + ("flat_settings", "include_defaults",
                                                                     "local", "master_timeout",
                                                                     "cluster_manager_timeout")),
    Route(["GET"], "/{index}/_settings/{name}", h_settings_get, IDX_OPTS + ("flat_settings", "include_defaults",
                                                                            "local", "master_timeout",
                                                                            "cluster_manager_timeout")),
    Route(["GET"], "/_settings/{name}", h_settings_get, IDX_OPTS + ("flat_settings", "include_defaults", "local",
                                                                    "master_timeout", "cluster_manager_timeout")),
    Route(["PUT"], "/_settings", h_settings_put, IDX_OPTS + MASTER + ("flat_settings", "preserve_existing")),
    Route(["PUT"], "/{index}/_settings", h_settings_put, IDX_OPTS + MASTER + ("flat_settings",
                                                                              "preserve_existing")),
    Route(["GET", "POST"], "/_refresh", h_refresh, IDX_OPTS),
    Route(["GET", "POST"], "/{index}/_refresh", h_refresh, IDX_OPTS),
    Route(["GET", "POST"], "/_flush", h_flush, IDX_OPTS + ("force", "wait_if_ongoing")),
    Route(["GET", "POST"], "/{index}/_flush", h_flush, IDX_OPTS + ("force", "wait_if_ongoing")),
    Route(["GET"], "/_stats", h_stats, ("level", "expand_wildcards", "completion_fields", "fielddata_fields",
                                        "fields", "groups", "include_segment_file_sizes",
                                        "include_unloaded_segments", "forbid_closed_indices")),
    Route(["GET"], "/{index}/_stats", h_stats, ("level", "expand_wildcards", "completion_fields",
                                                "fielddata_fields", "fields", "groups",
                                                "include_segment_file_sizes", "include_unloaded_segments",
                                                "forbid_closed_indices")),
    # aliases
    Route(["POST"], "/_aliases", h_aliases_update, MASTER),
    Route(["GET"], "/_alias", h_alias_get, IDX_OPTS + ("local", "master_timeout", "cluster_manager_timeout")),
    Route(["GET"], "/_aliases", h_alias_get, IDX_OPTS + ("local", "master_timeout", "cluster_manager_timeout")),
    Route(["GET"], "/_alias/{name}", h_alias_get, IDX_OPTS + ("local", "master_timeout", "cluster_manager_timeout")),
    Route(["HEAD"], "/_alias/{name}", h_alias_exists, IDX_OPTS + ("local",)),
    Route(["GET"], "/{index}/_alias", h_alias_get, IDX_OPTS + ("local", "master_timeout", "cluster_manager_timeout")),
    Route(["GET"], "/{index}/_aliases", h_alias_get, IDX_OPTS + ("local", "master_timeout",
                                                                 "cluster_manager_timeout")),
    Route(["GET"], "/{index}/_alias/{name}", h_alias_get, IDX_OPTS + ("local", "master_timeout",
                                                                      "cluster_manager_timeout")),
    Route(["HEAD"], "/{index}/_alias/{name}", h_alias_exists, IDX_OPTS + ("local",)),
    Route(["PUT", "POST"], "/{index}/_alias/{name}", h_alias_put, MASTER),
    Route(["PUT", "POST"], "/{index}/_aliases/{name}", h_alias_put, MASTER),
    Route(["PUT"], "/{index}/_alias", h_alias_put, MASTER),
    Route(["PUT"], "/{index}/_aliases", h_alias_put, MASTER),
    Route(["PUT", "POST"], "/_alias/{name}", h_alias_put, MASTER),
    Route(["PUT", "POST"], "/_aliases/{name}", h_alias_put, MASTER),
    Route(["PUT"], "/_alias", h_alias_put, MASTER),
    Route(["DELETE"], "/{index}/_alias/{name}", h_alias_delete, MASTER),
    Route(["DELETE"], "/{index}/_aliases/{name}", h_alias_delete, MASTER),
    # cat
    Route(["GET"], "/_cat/indices", h_cat_indices, ("bytes", "cluster_manager_timeout", "expand_wildcards",
                                                    "format", "h", "health", "help", "include_unloaded_segments",
                                                    "local", "master_timeout", "pri", "s", "time", "v")),
    Route(["GET"], "/_cat/indices/{index}", h_cat_indices, ("bytes", "cluster_manager_timeout",
                                                            "expand_wildcards", "format", "h", "health", "help",
                                                            "include_unloaded_segments", "local",
                                                            "master_timeout", "pri", "s", "time", "v")),
    Route(["GET"], "/_cat/count", h_cat_count, ("format", "h", "help", "s", "v", "local", "master_timeout")),
    Route(["GET"], "/_cat/count/{index}", h_cat_count, ("format", "h", "help", "s", "v", "local",
                                                        "master_timeout")),
    Route(["GET"], "/_cat/health", h_cat_health, ("format", "h", "help", "s", "v", "ts", "time", "local",
                                                  "master_timeout")),
    Route(["GET"], "/_cat/aliases", h_cat_aliases, ("format", "h", "help", "s", "v", "local", "master_timeout",
                                                    "expand_wildcards")),
    Route(["GET"], "/_cat/aliases/{name}", h_cat_aliases, ("format", "h", "help", "s", "v", "local",
                                                           "master_timeout", "expand_wildcards")),
]
