"""Index REST endpoints of the Elasticsearch-compatible test server: create, exists, get,
delete, open/close, mappings, settings, refresh, flush, stats and aliases.

DESIGN: each handler reads its parameters, resolves the index expression with the cluster
lock held (es_rest.resolve_indices) and checks everything before it changes anything, so a
request that fails leaves no trace: a mapping update is tried on a copy of each mapping
first, a settings update checks every index (final, static, blocked) before applying, and
_aliases builds its whole plan of add/remove/remove_index actions before executing it.
"""

from es_common import (EsError, validation_error, parsing_error, index_not_found, bool_param, glob_match,
                       illegal_argument, mapper_error)
from es_mapping import Mapping
from es_query import parse_query
from es_rest import ApiResponse, ok, ack, resolve_indices
from es_settings import (normalize_index_settings, check_setting_names, check_setting_values, is_dynamic_setting,
                         nest_settings, DEFAULT_SETTINGS, FINAL_SETTINGS)


# ---------------------------------------------------------------------------------------
# indices

CREATE_KEYS = {"settings", "mappings", "aliases"}


def h_index_create(req):
    c = req.cluster
    name = req.parts["index"]
    for p in ("wait_for_active_shards", "timeout", "master_timeout", "cluster_manager_timeout",
              "include_type_name"):
        req.param(p)
    body = req.json() or {}
    if not isinstance(body, dict):
        raise parsing_error("request body must be an object")
    for k in body:
        if k not in CREATE_KEYS:
            raise EsError(400, "parse_exception", "unknown key [%s] for create index" % k)
    settings = normalize_index_settings(body.get("settings") or {})
    mappings = body.get("mappings")
    if isinstance(mappings, dict) and req.flavour.name == "es7" and len(mappings) == 1 \
            and "_doc" in mappings and bool_param(req.params.get("include_type_name"), "include_type_name"):
        mappings = mappings["_doc"]
    with c.lock:
        c.create_index(name, settings, mappings, body.get("aliases"))
    return ok({"acknowledged": True, "shards_acknowledged": True, "index": name})


def h_index_exists(req):
    c = req.cluster
    for p in ("allow_no_indices", "expand_wildcards", "flat_settings", "ignore_unavailable",
              "include_defaults", "local"):
        req.param(p)
    try:
        with c.lock:
            found = c.resolve(req.parts["index"], ignore_unavailable=req.bool("ignore_unavailable"),
                              allow_no_indices=bool_param(req.params.get("allow_no_indices"), "x", False),
                              expand_wildcards=req.params.get("expand_wildcards", "open"))
    except EsError as e:
        if e.status == 404:
            return ApiResponse(404, b"", "text/plain; charset=UTF-8")
        raise
    return ApiResponse(200 if found else 404, b"", "text/plain; charset=UTF-8")


def h_index_get(req):
    c = req.cluster
    flat = req.bool("flat_settings")
    defaults = req.bool("include_defaults")
    for p in ("local", "master_timeout", "cluster_manager_timeout", "include_type_name"):
        req.param(p)
    with c.lock:
        found = resolve_indices(req, req.parts["index"], "open,closed")
        out = {}
        for idx, _ in found:
            s = idx.all_settings(c.flavour)
            entry = {"aliases": {a: p for a, p in sorted(c.aliases_of(idx.name).items())},
                     "mappings": idx.mapping.to_json(),
                     "settings": s if flat else nest_settings(s)}
            if defaults:
                d = {k: v for k, v in DEFAULT_SETTINGS.items() if k not in s}
                entry["defaults"] = d if flat else nest_settings(d)
            out[idx.name] = entry
    return ok(out)


def h_index_delete(req):
    c = req.cluster
    for p in ("timeout", "master_timeout", "cluster_manager_timeout"):
        req.param(p)
    expr = req.parts["index"]
    with c.lock:
        if c.cluster_setting("action.destructive_requires_name") == "true":
            for part in expr.split(","):
                if part in ("_all", "*") or "*" in part:
                    raise illegal_argument("Wildcard expressions or all indices are not allowed")
        found = resolve_indices(req, expr, "open,closed", reject_aliases=True)
        for idx, via in found:
            if via and None not in via:
                continue
            idx.check_block("metadata", c.flavour)
        for idx, via in found:
            if via and None not in via:
                continue
            c.delete_index(idx)
    return ok(ack())


def h_index_close(req, close=True):
    c = req.cluster
    for p in ("timeout", "master_timeout", "cluster_manager_timeout", "wait_for_active_shards",
              "task_execution_timeout", "wait_for_completion"):
        req.param(p)
    with c.lock:
        found = resolve_indices(req, req.parts["index"], "open" if close else "closed")
        res = {}
        for idx, _ in found:
            idx.state = "close" if close else "open"
            if close:
                res[idx.name] = {"closed": True}
                for cid in [k for k, ctx in c.contexts.items() if any(r.index is idx for r in ctx.readers)]:
                    del c.contexts[cid]
    if close:
        return ok({"acknowledged": True, "shards_acknowledged": True, "indices": res})
    return ok({"acknowledged": True, "shards_acknowledged": True})


def h_index_open(req):
    return h_index_close(req, close=False)


def h_mapping_get(req):
    c = req.cluster
    for p in ("local", "master_timeout", "cluster_manager_timeout", "include_type_name"):
        req.param(p)
    with c.lock:
        found = resolve_indices(req, req.parts.get("index"))
        return ok({idx.name: {"mappings": idx.mapping.to_json()} for idx, _ in found})


def h_mapping_put(req):
    c = req.cluster
    for p in ("timeout", "master_timeout", "cluster_manager_timeout", "write_index_only",
              "include_type_name"):
        req.param(p)
    body = req.json(required=True)
    with c.lock:
        found = resolve_indices(req, req.parts.get("index"), allow_no_indices=False)
        # validate on copies first so a failure changes nothing (the update is atomic)
        for idx, _ in found:
            idx.check_block("metadata", c.flavour)
            trial = Mapping(None, idx.settings)
            trial.root = dict(idx.mapping.root)
            try:
                trial.merge(body)
            except EsError as e:
                if e.etype == "mapper_parsing_exception" and e.reason.startswith("Root mapping"):
                    raise mapper_error(e.reason)
                raise
        for idx, _ in found:
            idx.mapping.merge(body)
    return ok(ack())


def h_settings_get(req):
    c = req.cluster
    flat = req.bool("flat_settings")
    defaults = req.bool("include_defaults")
    for p in ("local", "master_timeout", "cluster_manager_timeout"):
        req.param(p)
    names = req.parts.get("name")
    pats = [n for n in names.split(",")] if names and names != "_all" else None
    with c.lock:
        found = resolve_indices(req, req.parts.get("index"), "open,closed")
        out = {}
        for idx, _ in found:
            s = idx.all_settings(c.flavour)
            if pats:
                s = {k: v for k, v in s.items() if any(glob_match(p, k) for p in pats)}
            if not s and pats:
                continue
            entry = {"settings": s if flat else nest_settings(s)}
            if defaults:
                d = {k: v for k, v in DEFAULT_SETTINGS.items() if k not in s}
                if pats:
                    d = {k: v for k, v in d.items() if any(glob_match(p, k) for p in pats)}
                entry["defaults"] = d if flat else nest_settings(d)
            out[idx.name] = entry
    return ok(out)


def h_settings_put(req):
    c = req.cluster
    flat = req.bool("flat_settings")
    preserve = req.bool("preserve_existing")
    for p in ("timeout", "master_timeout", "cluster_manager_timeout"):
        req.param(p)
    body = req.json(required=True)
    if not isinstance(body, dict):
        raise parsing_error("request body must be an object")
    if "settings" in body and isinstance(body["settings"], dict) and len(body) == 1:
        body = body["settings"]
    new = normalize_index_settings(body)
    check_setting_names(new, is_update=True)
    check_setting_values({k: v for k, v in new.items() if v is not None})
    expr = req.parts.get("index")
    if expr is not None:
        expr = ",".join(p.strip() for p in expr.split(","))
    with c.lock:
        found = resolve_indices(req, expr, "open")
        for idx, _ in found:
            only_blocks = all(k.startswith("index.blocks.") for k in new)
            if not only_blocks:
                idx.check_block("metadata", c.flavour)
            for k in new:
                if k in FINAL_SETTINGS:
                    raise illegal_argument("final %s setting [%s], not updateable" % ("index", k))
            static = sorted(k for k in new if not is_dynamic_setting(k) and not (preserve and k in idx.settings))
            if static and idx.state == "open":
                raise illegal_argument("Can't update non dynamic settings [[%s]] for open indices [[%s/%s]]"
                                       % (", ".join(static), idx.name, idx.uuid))
        for idx, _ in found:
            for k, v in new.items():
                if preserve and k in idx.settings:
                    continue
                if v is None:
                    idx.settings.pop(k, None)
                    if k == "index.number_of_replicas":
                        idx.settings[k] = "1"
                else:
                    idx.settings[k] = v
            idx.mapping.settings = idx.settings
    return ok(ack())


def h_refresh(req):
    c = req.cluster
    with c.lock:
        found = resolve_indices(req, req.parts.get("index"))
        total = succ = 0
        for idx, _ in found:
            if idx.state != "open":
                continue
            idx.refresh()
            total += idx.num_shards * (1 + idx.replicas())
            succ += idx.num_shards
    return ok({"_shards": {"total": total, "successful": succ, "failed": 0}})


def h_flush(req):
    for p in ("force", "wait_if_ongoing"):
        req.param(p)
    return h_refresh(req)


def h_stats(req):
    c = req.cluster
    for p in ("level", "completion_fields", "fielddata_fields", "fields", "groups", "include_segment_file_sizes",
              "include_unloaded_segments", "forbid_closed_indices", "expand_wildcards"):
        req.param(p)
    with c.lock:
        found = c.resolve(req.parts.get("index"), expand_wildcards=req.params.get("expand_wildcards", "open"))
        indices = {}
        tot_docs = tot_del = tot_size = shards = 0
        for idx, _ in found:
            if idx.state != "open":
                continue
            idx.maybe_scheduled_refresh()
            d, dd, sz = idx.doc_count(), idx.deleted_count(), idx.store_bytes()
            prim = {"docs": {"count": d, "deleted": dd}, "store": {"size_in_bytes": sz},
                    "indexing": {"index_total": sum(s.next_seq_no for s in idx.shards)}}
            indices[idx.name] = {"uuid": idx.uuid, "health": idx.health(), "status": "open",
                                 "primaries": prim, "total": prim}
            tot_docs += d
            tot_del += dd
            tot_size += sz
            shards += idx.num_shards
        allp = {"docs": {"count": tot_docs, "deleted": tot_del}, "store": {"size_in_bytes": tot_size}}
    return ok({"_shards": {"total": shards, "successful": shards, "failed": 0},
               "_all": {"primaries": allp, "total": allp}, "indices": indices})


# ---------------------------------------------------------------------------------------
# aliases

def _alias_targets(c, expr, expand="open,closed"):
    return [i for i, _ in c.resolve(expr, expand_wildcards=expand)]


def h_aliases_update(req):
    c = req.cluster
    for p in ("timeout", "master_timeout", "cluster_manager_timeout"):
        req.param(p)
    body = req.json(required=True)
    if not isinstance(body, dict) or not isinstance(body.get("actions"), list):
        raise validation_error("no actions specified" if isinstance(body, dict) else "request body must be an object")
    if not body["actions"]:
        raise validation_error("no actions specified")
    plan = []
    removed = set()
    with c.lock:
        for act in body["actions"]:
            if isinstance(act, dict) and isinstance(act.get("remove_index"), dict):
                spec = act["remove_index"]
                names = spec.get("indices", [spec.get("index")])
                removed.update(n for n in (names if isinstance(names, list) else [names]) if n in c.indices)
        for act in body["actions"]:
            if not isinstance(act, dict) or len(act) != 1:
                raise parsing_error("[alias_action] malformed action", etype="x_content_parse_exception")
            (kind, spec), = act.items()
            if kind not in ("add", "remove", "remove_index"):
                raise parsing_error("[alias_action] unknown field [%s]" % kind, etype="x_content_parse_exception")
            if not isinstance(spec, dict):
                raise parsing_error("[%s] malformed" % kind, etype="x_content_parse_exception")
            idx_names = spec.get("indices", [spec["index"]] if "index" in spec else None)
            if isinstance(idx_names, str):
                idx_names = [idx_names]
            if not idx_names:
                raise validation_error("One of [index] or [indices] is required")
            if kind == "remove_index":
                for n in idx_names:
                    if n in c.aliases and n not in c.indices:
                        raise illegal_argument("The provided expression [%s] matches an alias, specify the "
                                               "corresponding concrete indices instead." % n)
                for idx, _ in c.resolve(",".join(idx_names), expand_wildcards="open,closed", reject_aliases=True):
                    plan.append(("remove_index", idx, None, None))
                    removed.add(idx.name)
                continue
            if "aliases" in spec:
                aliases = spec["aliases"]
                if isinstance(aliases, str):
                    aliases = [aliases]
                if not aliases:
                    raise illegal_argument("[aliases] can't be empty")
            elif "alias" in spec:
                aliases = [spec["alias"]]
            else:
                raise validation_error("One of [alias] or [aliases] is required")
            idxs = _alias_targets(c, ",".join(idx_names))
            if kind == "add":
                props = {k: v for k, v in spec.items() if k in ("filter", "routing", "index_routing",
                                                               "search_routing", "is_write_index", "is_hidden")}
                for k in spec:
                    if k not in ("index", "indices", "alias", "aliases", "filter", "routing", "index_routing",
                                 "search_routing", "is_write_index", "is_hidden", "must_exist"):
                        raise parsing_error("[add] unknown field [%s]" % k, etype="x_content_parse_exception")
                if props.get("filter") is not None:
                    parse_query(props["filter"], req.flavour)
                for idx in idxs:
                    for a in aliases:
                        c._check_alias_name(a, removed=removed)
                        plan.append(("add", idx, a, props))
            else:
                must_exist = spec.get("must_exist")
                missing = []
                any_found = False
                for a in aliases:
                    hit = False
                    for idx in idxs:
                        for name in list(c.aliases):
                            if glob_match(a, name) and idx.name in c.aliases[name]:
                                plan.append(("remove", idx, name, None))
                                hit = True
                    if hit:
                        any_found = True
                    else:
                        missing.append(a)
                if (must_exist in (True, "true") and missing) or (not any_found and must_exist is None):
                    raise EsError(404, "aliases_not_found_exception",
                                  "aliases [%s] missing" % ",".join(missing),
                                  {"resource.type": "aliases", "resource.id": ",".join(missing)})
        # apply atomically
        for kind, idx, alias, props in plan:
            if kind == "add":
                c.aliases.setdefault(alias, {})[idx.name] = c._alias_props(props or {}, alias)
            elif kind == "remove":
                if alias in c.aliases:
                    c.aliases[alias].pop(idx.name, None)
                    if not c.aliases[alias]:
                        del c.aliases[alias]
            elif kind == "remove_index":
                if idx.name in c.indices:
                    c.delete_index(idx)
    return ok(ack())


def h_alias_put(req):
    c = req.cluster
    for p in ("timeout", "master_timeout", "cluster_manager_timeout"):
        req.param(p)
    body = req.json() or {}
    if not isinstance(body, dict):
        raise parsing_error("request body must be an object")
    index = body.pop("index", None) or req.parts.get("index")
    name = body.pop("alias", None) or req.parts.get("name")
    if index in (None, "null") or name in (None, "null"):
        raise validation_error(["index is missing" if index in (None, "null") else "alias is missing"])
    with c.lock:
        idxs = _alias_targets(c, index)
        if not idxs:
            raise index_not_found(index)
        props = c._alias_props(body, name)
        if props.get("filter") is not None:
            parse_query(props["filter"], req.flavour)
        c._check_alias_name(name)
        for idx in idxs:
            c.aliases.setdefault(name, {})[idx.name] = dict(props)
    return ok(ack())


def h_alias_delete(req):
    c = req.cluster
    for p in ("timeout", "master_timeout", "cluster_manager_timeout"):
        req.param(p)
    with c.lock:
        idxs = _alias_targets(c, req.parts["index"])
        names = req.parts["name"].split(",")
        removed = False
        missing = []
        for n in names:
            hit = False
            for idx in idxs:
                for a in list(c.aliases):
                    if (n in ("_all", "*") or glob_match(n, a)) and idx.name in c.aliases[a]:
                        c.aliases[a].pop(idx.name)
                        if not c.aliases[a]:
                            del c.aliases[a]
                        hit = removed = True
            if not hit:
                missing.append(n)
        if not removed:
            raise EsError(404, "aliases_not_found_exception", "aliases [%s] missing" % ",".join(missing),
                          {"resource.type": "aliases", "resource.id": ",".join(missing)})
    return ok(ack())


def h_alias_get(req, head=False):
    c = req.cluster
    for p in ("local", "master_timeout", "cluster_manager_timeout"):
        req.param(p)
    name_expr = req.parts.get("name")
    names = [n for n in name_expr.split(",")] if name_expr else []
    explicit = bool(names)
    with c.lock:
        idx_expr = req.parts.get("index")
        found = resolve_indices(req, idx_expr, "all")
        resp = {}
        returned = set()
        for idx, _ in found:
            mine = c.aliases_of(idx.name)
            sel = {}
            for a in sorted(mine):
                if _alias_selected(a, names):
                    sel[a] = mine[a]
            if sel:
                returned.update(sel)
            if sel or not explicit:
                resp[idx.name] = {"aliases": sel}
        missing = _missing_aliases(names, returned) if explicit else []
    if head:
        return ApiResponse(200 if (resp and not missing and (returned or not explicit)) else 404, b"",
                           "text/plain; charset=UTF-8")
    if missing:
        msg = ("alias [%s] missing" if len(missing) == 1 else "aliases [%s] missing") % ",".join(missing)
        body = {"error": msg, "status": 404}
        body.update(resp)
        return ok(body, 404)
    return ok(resp)


def h_alias_exists(req):
    return h_alias_get(req, head=True)


def _alias_selected(alias, names):
    if not names:
        return True
    matched = False
    for n in names:
        if n.startswith("-"):
            if matched and glob_match(n[1:], alias):
                matched = False
        elif not matched:
            matched = n == "_all" or glob_match(n, alias)
    return matched


def _missing_aliases(names, returned):
    first_wc = len(names)
    for i, n in enumerate(names):
        if "*" in n:
            first_wc = i
            break
    missing = set()
    for i, n in enumerate(names):
        if n == "_all" or "*" in n or (i > first_wc and n.startswith("-")):
            continue
        j = max(i + 1, first_wc)
        excluded = False
        while j < len(names):
            if names[j].startswith("-") and (glob_match(names[j][1:], n) or names[j] == "_all"):
                excluded = True
                break
            j += 1
        if not excluded and n not in returned:
            missing.add(n)
    return sorted(missing)
