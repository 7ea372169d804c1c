"""Index mappings of the Elasticsearch-compatible test server.

DESIGN: a Mapping keeps the mapping as Elasticsearch shows it (a JSON dict) plus a compiled
lookup: leaf fields (including multi-fields such as "id.keyword") and object/nested paths.
This module holds the mapping definitions: the types and the parameters each accepts,
validation of a definition (PUT _mapping, create index) with the errors a real node sends,
merging a definition into the current mapping (conflicting changes are refused) and
rendering it back. Documents are checked against a Mapping by DocParser (es_docparse.py),
which also computes the dynamic mapping update; what a value of each type is lives in
es_values.py, dates in es_dates.py, analysis in es_analysis.py.
"""

from es_common import illegal_argument, mapper_error, java_str
from es_dates import DateFormat, date_format, field_date_format
from es_values import INT_RANGES, as_text


# ---------------------------------------------------------------------------------------
# types and their parameters

_BASE = {"type", "store", "index", "doc_values", "boost", "meta", "copy_to", "fields"}
_NUM = _BASE | {"coerce", "ignore_malformed", "null_value", "script", "on_script_failure",
                "time_series_metric", "time_series_dimension"}
TYPE_PARAMS = {
    "keyword": _BASE | {"ignore_above", "normalizer", "null_value", "eager_global_ordinals",
                        "index_options", "norms", "similarity", "split_queries_on_whitespace",
                        "script", "on_script_failure", "time_series_dimension"},
    "text": _BASE | {"analyzer", "search_analyzer", "search_quote_analyzer", "fielddata",
                     "fielddata_frequency_filter", "index_options", "index_prefixes",
                     "index_phrases", "norms", "position_increment_gap", "similarity",
                     "term_vector", "eager_global_ordinals"},
    "match_only_text": {"type", "fields", "meta", "analyzer", "search_analyzer",
                        "search_quote_analyzer", "position_increment_gap", "index_options",
                        "index_phrases", "index_prefixes", "norms"},
    "long": _NUM, "integer": _NUM, "short": _NUM, "byte": _NUM, "double": _NUM,
    "float": _NUM, "half_float": _NUM, "unsigned_long": _NUM,
    "scaled_float": _NUM | {"scaling_factor"},
    "date": _BASE | {"format", "locale", "ignore_malformed", "null_value", "print_format",
                     "script", "on_script_failure"},
    "date_nanos": _BASE | {"format", "locale", "ignore_malformed", "null_value",
                           "print_format"},
    "boolean": _BASE | {"null_value", "script", "on_script_failure"},
    "ip": _BASE | {"null_value", "ignore_malformed", "script", "on_script_failure"},
    "binary": {"type", "doc_values", "store", "meta"},
    "constant_keyword": {"type", "value", "meta"},
    "wildcard": {"type", "ignore_above", "null_value", "meta", "fields", "doc_values"},
    "flat_object": {"type", "meta", "depth_limit"},
}
# types accepted with any parameter (not used by the checks below)
LOOSE_TYPES = {"geo_point", "geo_shape", "point", "shape", "completion", "search_as_you_type",
               "token_count", "dense_vector", "sparse_vector", "knn_vector", "rank_feature",
               "rank_features", "join", "percolator", "histogram", "integer_range",
               "long_range", "float_range", "double_range", "date_range", "ip_range",
               "version", "alias", "murmur3", "annotated_text", "semantic_text",
               "aggregate_metric_double", "counted_keyword", "icu_collation_keyword",
               "derived", "star_tree", "semantic"}
OBJECT_PARAMS = {"type", "properties", "dynamic", "enabled", "subobjects"}
NESTED_PARAMS = OBJECT_PARAMS | {"include_in_parent", "include_in_root"}
ROOT_PARAMS = {"properties", "dynamic", "dynamic_templates", "date_detection",
               "numeric_detection", "dynamic_date_formats", "_source", "_routing", "_meta",
               "_field_names", "enabled", "runtime", "_data_stream_timestamp", "subobjects",
               "_size", "_doc_count", "derived"}


# ---------------------------------------------------------------------------------------
# compiled mapping

class Field(object):
    """A searchable leaf: a field or a multi-field."""
    __slots__ = ("path", "type", "params", "source_path", "is_multi", "nested_path", "fmt",
                 "flat")

    def __init__(self, path, ftype, params, source_path, is_multi, nested_path, flat=False):
        self.path = path
        self.type = ftype
        self.params = params
        self.source_path = source_path
        self.is_multi = is_multi
        self.nested_path = nested_path
        self.fmt = None
        self.flat = flat
        if ftype in ("date", "date_nanos"):
            self.fmt = field_date_format(ftype, params.get("format"))


class ObjectInfo(object):
    __slots__ = ("path", "type", "dynamic", "enabled", "nested_path")

    def __init__(self, path, otype, dynamic, enabled, nested_path):
        self.path = path
        self.type = otype
        self.dynamic = dynamic
        self.enabled = enabled
        self.nested_path = nested_path


class Mapping(object):
    """The mapping of one index. Not thread-safe: the cluster lock guards it."""

    def __init__(self, definition=None, settings=None):
        self.root = {}
        self.settings = settings if settings is not None else {}
        self.fields = {}
        self.objects = {}
        self.total_fields = 0
        self.level_root = {}
        self._cfg = None
        if definition:
            self.merge(definition, validate=True)

    # -- public API --------------------------------------------------------------------

    def to_json(self):
        return _render_root(self.root)

    def merge(self, definition, validate=True):
        """Merges a mapping definition (PUT _mapping or create index). Raises EsError."""
        if not isinstance(definition, dict):
            raise mapper_error("Failed to parse mapping: mapping must be an object")
        if validate:
            check_root(definition)
        merged = _merge_root(self.root, definition)
        self._compile(merged)
        self.root = merged
        self._cfg = None

    def parser_config(self, settings):
        """What DocParser needs besides the fields, computed once per mapping/settings change."""
        key = (id(settings), settings.get("index.mapping.nested_objects.limit"),
               settings.get("index.mapping.total_fields.limit"), settings.get("index.mapping.depth.limit"))
        if self._cfg is not None and self._cfg[0] == key:
            return self._cfg[1]
        root = self.root
        cfg = (int(settings.get("index.mapping.nested_objects.limit", "10000")),
               int(settings.get("index.mapping.total_fields.limit", "1000")),
               int(settings.get("index.mapping.depth.limit", "20")),
               root.get("date_detection", True) not in (False, "false"),
               root.get("numeric_detection", False) in (True, "true"),
               [date_format(f) for f in root.get("dynamic_date_formats",
                                                 ["strict_date_optional_time", "yyyy/MM/dd HH:mm:ss Z||yyyy/MM/dd Z"])],
               root.get("dynamic_templates", []))
        self._cfg = (key, cfg)
        return cfg

    def lookup(self, path):
        """Returns the Field for a path (fields, multi-fields and flat_object sub-paths)."""
        f = self.fields.get(path)
        if f is not None:
            return f
        # flat_object sub-fields: "labels.version" under a flat_object "labels"
        parts = path.split(".")
        for i in range(len(parts) - 1, 0, -1):
            base = ".".join(parts[:i])
            f = self.fields.get(base)
            if f is not None and f.type == "flat_object":
                return Field(path, "keyword", {}, path, False, f.nested_path, flat=True)
        return None

    def object_info(self, path):
        return self.objects.get(path)

    def field_names(self):
        return list(self.fields.keys())

    def dynamic_for(self, obj_path):
        """The effective "dynamic" setting inside an object path."""
        p = obj_path
        while p:
            o = self.objects.get(p)
            if o is not None and o.dynamic is not None:
                return o.dynamic
            p = p.rpartition(".")[0]
        d = self.root.get("dynamic")
        return as_text(d) if d is not None else "true"

    # -- compile -----------------------------------------------------------------------

    def _compile(self, root):
        fields = {}
        objects = {}
        count = [0]

        def walk(props, prefix, nested_path):
            for name, spec in props.items():
                path = prefix + name
                count[0] += 1
                t = spec.get("type")
                if t in (None, "object", "nested"):
                    np = path if t == "nested" else nested_path
                    objects[path] = ObjectInfo(path, t or "object",
                                               as_text(spec["dynamic"]) if "dynamic" in spec else None,
                                               spec.get("enabled", True) not in (False, "false"), np)
                    walk(spec.get("properties", {}), path + ".", np)
                    continue
                fields[path] = Field(path, t, spec, path, False, nested_path)
                for sub, sspec in (spec.get("fields") or {}).items():
                    count[0] += 1
                    fields[path + "." + sub] = Field(path + "." + sub, sspec.get("type"), sspec,
                                                     path, True, nested_path)

        walk(root.get("properties", {}), "", None)
        self.fields = fields
        self.objects = objects
        self.total_fields = count[0]
        self.level_root = _build_level(root.get("properties", {}), "", fields, objects)


# value types that a field of a type always accepts without further checks
_FAST_OK = {"keyword": (str, int, float, bool), "text": (str, int, float, bool),
            "match_only_text": (str, int, float, bool), "wildcard": (str, int, float, bool),
            "long": (int,), "integer": (int,), "short": (int,), "byte": (int,),
            "double": (int, float), "scaled_float": (int, float), "boolean": (bool,)}


def _build_level(props, prefix, fields, objects):
    """For the fast path of DocParser: name -> (0, ok types, int range) for plain leaves,
    (1, date format) for dates, (2, sub level) for enabled plain objects. Names not listed
    (and values the entry does not accept) take the general path."""
    level = {}
    for name, spec in props.items():
        path = prefix + name
        if "." in name or not name:
            continue
        f = fields.get(path)
        if f is not None:
            ok = _FAST_OK.get(f.type)
            if ok is not None:
                level[name] = (0, ok, INT_RANGES.get(f.type))
            elif f.type == "date":
                level[name] = (1, f.fmt)
            elif f.type in ("float", "half_float"):
                level[name] = (3, 3.4028234663852886e38 if f.type == "float" else 65504.0)
            continue
        o = objects.get(path)
        if o is not None and o.type == "object" and o.enabled:
            level[name] = (2, _build_level(spec.get("properties", {}), path + ".", fields, objects))
    return level


# ---------------------------------------------------------------------------------------
# validation of mapping definitions

def check_root(definition):
    bad = [k for k in definition if k not in ROOT_PARAMS]
    if bad:
        detail = ", ".join("%s : %s" % (k, java_str(definition[k])) for k in bad)
        raise mapper_error("Root mapping definition has unsupported parameters:  [%s]" % detail)
    if "dynamic" in definition:
        _check_dynamic(definition["dynamic"], "_doc")
    if "properties" in definition:
        if not isinstance(definition["properties"], dict):
            raise mapper_error("Expected map for property [fields] on field [properties] but got a class java.lang.String")
        _check_props(definition["properties"], "")
    dt = definition.get("dynamic_templates")
    if dt is not None:
        if not isinstance(dt, list):
            raise mapper_error("Dynamic template syntax error. An array of named objects is expected.")
        for t in dt:
            if not isinstance(t, dict) or len(t) != 1:
                raise mapper_error("A dynamic template must be defined with a name")
            (name, body), = t.items()
            if not isinstance(body, dict) or "mapping" not in body:
                raise mapper_error("template [%s] must have either mapping or runtime set" % name)


def _check_dynamic(v, where):
    if as_text(v) not in ("true", "false", "strict", "runtime", "strict_allow_templates",
                          "false_allow_templates"):
        raise mapper_error("Could not convert [dynamic] to boolean")


def _check_props(props, prefix):
    for name, spec in props.items():
        full = prefix + name
        if name == "":
            raise mapper_error("Failed to parse mapping: name cannot be empty string",
                               caused_by=illegal_argument("name cannot be empty string"))
        if not isinstance(spec, dict):
            raise mapper_error("Expected map for property [fields] on field [%s] but got a %s"
                               % (name, _java_class(spec)))
        t = spec.get("type")
        if t is None or t in ("object", "nested"):
            allowed = NESTED_PARAMS if t == "nested" else OBJECT_PARAMS
            bad = [k for k in spec if k not in allowed]
            if bad and t is None and "properties" not in spec:
                # no type and no properties: ES treats it as an object with unknown params
                pass
            if bad:
                raise mapper_error("Mapping definition for [%s] has unsupported parameters:  [%s]"
                                   % (name, ", ".join("%s : %s" % (k, java_str(spec[k])) for k in bad)))
            if "dynamic" in spec:
                _check_dynamic(spec["dynamic"], full)
            sub = spec.get("properties", {})
            if not isinstance(sub, dict):
                raise mapper_error("Expected map for property [properties] on field [%s]" % name)
            _check_props(sub, full + ".")
            continue
        if not isinstance(t, str):
            raise mapper_error("No type specified for field [%s]" % name)
        if t not in TYPE_PARAMS and t not in LOOSE_TYPES:
            raise mapper_error("No handler for type [%s] declared on field [%s]" % (t, name))
        if t in TYPE_PARAMS:
            for k in spec:
                if k not in TYPE_PARAMS[t]:
                    if t == "flat_object":
                        raise mapper_error("Mapping definition for [%s] has unsupported parameters:  [%s : %s]"
                                           % (name, k, java_str(spec[k])))
                    raise mapper_error("unknown parameter [%s] on mapper [%s] of type [%s]" % (k, full, t))
        if t == "scaled_float" and "scaling_factor" not in spec:
            raise mapper_error("Field [scaling_factor] is required")
        if t in ("date", "date_nanos") and "format" in spec:
            try:
                DateFormat(spec["format"])
            except ValueError as e:
                raise mapper_error("Invalid format: [%s]: %s" % (spec["format"], e))
        for sub, sspec in (spec.get("fields") or {}).items():
            if not isinstance(sspec, dict):
                raise mapper_error("Expected map for property [fields] on field [%s]" % sub)
            _check_props({sub: sspec}, full + ".")


def _java_class(v):
    if isinstance(v, str):
        return "java.lang.String"
    if isinstance(v, bool):
        return "java.lang.Boolean"
    if isinstance(v, int):
        return "java.lang.Integer"
    if isinstance(v, list):
        return "java.util.ArrayList"
    return "java.lang.Object"


# ---------------------------------------------------------------------------------------
# merging

def _merge_root(old, new):
    out = dict(old)
    for k, v in new.items():
        if k == "properties":
            out["properties"] = _merge_props(old.get("properties", {}), v, "")
        elif k == "dynamic_templates":
            # templates with the same name are replaced, new ones appended
            cur = list(old.get("dynamic_templates", []))
            names = [list(t.keys())[0] for t in cur]
            for t in v:
                n = list(t.keys())[0]
                if n in names:
                    cur[names.index(n)] = t
                else:
                    cur.append(t)
            out["dynamic_templates"] = cur
        else:
            out[k] = v
    return out


_FROZEN = ("analyzer", "index", "doc_values", "store", "format", "scaling_factor", "normalizer",
           "value")


def _merge_props(old, new, prefix):
    out = dict(old)
    for name, spec in new.items():
        path = prefix + name
        cur = old.get(name)
        if cur is None:
            out[name] = spec
            continue
        ct, nt = cur.get("type"), spec.get("type")
        cobj = ct in (None, "object", "nested")
        nobj = nt in (None, "object", "nested")
        if cobj and nobj:
            if (ct == "nested") != (nt == "nested") and nt is not None and ct is not None:
                raise illegal_argument("cannot change object mapping from nested to non-nested"
                                       if ct == "nested" else
                                       "cannot change object mapping from non-nested to nested")
            if ct == "nested" and nt is None:
                raise illegal_argument("cannot change object mapping from nested to non-nested")
            merged = dict(cur)
            for k, v in spec.items():
                if k == "properties":
                    merged["properties"] = _merge_props(cur.get("properties", {}), v, path + ".")
                elif k != "type":
                    merged[k] = v
            if nt == "nested":
                merged["type"] = "nested"
            out[name] = merged
            continue
        if cobj != nobj:
            if cobj:
                raise illegal_argument("can't merge a non object mapping [%s] with an object mapping" % path)
            raise illegal_argument("can't merge a non object mapping [%s] with an object mapping" % path)
        if ct != nt:
            raise illegal_argument("mapper [%s] cannot be changed from type [%s] to [%s]" % (path, ct, nt))
        for k in _FROZEN:
            if k in spec and spec.get(k) != cur.get(k) and not (k == "index" and spec.get(k) in (True, "true") and k not in cur):
                raise illegal_argument("Mapper for [%s] conflicts with existing mapper:\n\tCannot update "
                                       "parameter [%s] from [%s] to [%s]"
                                       % (path, k, java_str(cur.get(k, _default_param(ct, k))), java_str(spec[k])))
        merged = dict(cur)
        for k, v in spec.items():
            if k == "fields":
                mf = dict(cur.get("fields", {}))
                for sub, sspec in v.items():
                    if sub in mf and mf[sub].get("type") != sspec.get("type"):
                        raise illegal_argument("mapper [%s.%s] cannot be changed from type [%s] to [%s]"
                                               % (path, sub, mf[sub].get("type"), sspec.get("type")))
                    mf[sub] = sspec if sub not in mf else dict(mf[sub], **sspec)
                merged["fields"] = mf
            else:
                merged[k] = v
        out[name] = merged
    return out


def _default_param(t, k):
    return {"analyzer": "default", "index": True, "doc_values": True, "store": False}.get(k, "")


def _render_root(root):
    out = {}
    for k in ("dynamic", "dynamic_templates", "date_detection", "numeric_detection",
              "dynamic_date_formats", "_meta", "_routing", "_source", "_field_names", "runtime",
              "enabled", "subobjects", "_size", "derived"):
        if k in root:
            out[k] = root[k]
    if root.get("properties"):
        out["properties"] = _render_props(root["properties"])
    return out


def _render_props(props):
    out = {}
    for name in sorted(props):
        spec = props[name]
        t = spec.get("type")
        r = {}
        if t is not None and not (t == "object" and spec.get("properties")):
            r["type"] = t
        for k, v in spec.items():
            if k == "type":
                continue
            if k == "properties":
                r["properties"] = _render_props(v)
            elif k == "fields":
                r["fields"] = _render_props(v)
            else:
                r[k] = v
        out[name] = r
    return out
