"""Index mappings for the Elasticsearch-compatible test server.

DESIGN: a Mapping keeps the mapping as Elasticsearch shows it (a JSON dict) plus a compiled
lookup: leaf fields (including multi-fields such as "id.keyword") and object/nested paths.
Documents are checked against it the way DocumentParser does:
  - a value that a mapped field cannot take (a word in a long field, an object where a
    keyword is mapped, a bad date) fails with mapper_parsing_exception and the caused_by a
    real node sends;
  - unmapped fields are added by dynamic mapping (strings become text + keyword sub-field,
    dates are detected, integers become long, decimals float), honouring "dynamic"
    (true / false / strict, and OpenSearch's strict_allow_templates / false_allow_templates),
    dynamic_templates and the total-fields limit;
  - the mapping update is computed on the side and applied only when the whole document
    parsed, so a failing document leaves no trace.
Values are normalised for search (numbers coerced, dates to epoch millis or nanos, text
analysed) by value_for(); analysis is an approximation of the standard analyzer.
"""

import calendar
import datetime
import ipaddress
import math
import re
import time

from es_common import (EsError, glob_match, illegal_argument, float32, half_float,
                       java_double_str)


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
INT_RANGES = {"long": (-(1 << 63), (1 << 63) - 1), "integer": (-(1 << 31), (1 << 31) - 1),
              "short": (-32768, 32767), "byte": (-128, 127),
              "unsigned_long": (0, (1 << 64) - 1)}
INT_NAMES = {"long": "a long", "integer": "an integer", "short": "a short", "byte": "a byte",
             "unsigned_long": "an unsigned long"}
NUMERIC = {"long", "integer", "short", "byte", "double", "float", "half_float",
           "scaled_float", "unsigned_long"}
METADATA_FIELDS = {"_id", "_index", "_routing", "_source", "_type", "_seq_no", "_version",
                   "_primary_term", "_field_names", "_ignored", "_nested_path", "_data_stream_timestamp",
                   "_doc_count", "_tier", "_size", "_feature", "_parent"}
DEFAULT_DATE_FORMAT = "strict_date_optional_time||epoch_millis"
DEFAULT_NANOS_FORMAT = "strict_date_optional_time_nanos||epoch_millis"


def mapper_error(reason, caused_by=None):
    return EsError(400, "mapper_parsing_exception", reason, caused_by=caused_by)


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
            self.fmt = date_format(params.get("format") or
                                   (DEFAULT_NANOS_FORMAT if ftype == "date_nanos" else DEFAULT_DATE_FORMAT))


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
        return _dyn_value(d) if d is not None else "true"

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
                                               _dyn_value(spec["dynamic"]) if "dynamic" in spec else None,
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


def _dyn_value(v):
    if v is True:
        return "true"
    if v is False:
        return "false"
    return str(v)


# ---------------------------------------------------------------------------------------
# validation of mapping definitions

def check_root(definition):
    bad = [k for k in definition if k not in ROOT_PARAMS]
    if bad:
        detail = ", ".join("%s : %s" % (k, _java_str(definition[k])) for k in bad)
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
    if _dyn_value(v) not in ("true", "false", "strict", "runtime", "strict_allow_templates",
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
                                   % (name, ", ".join("%s : %s" % (k, _java_str(spec[k])) for k in bad)))
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
                                           % (name, k, _java_str(spec[k])))
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


def _java_str(v):
    """Java Map/List toString, used in "unsupported parameters" messages and previews."""
    if isinstance(v, dict):
        return "{" + ", ".join("%s=%s" % (k, _java_str(x)) for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(_java_str(x) for x in v) + "]"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if v is None:
        return "null"
    if isinstance(v, float):
        return java_double_str(v)
    return str(v)


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
                                       % (path, k, _java_str(cur.get(k, _default_param(ct, k))), _java_str(spec[k])))
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


# ---------------------------------------------------------------------------------------
# document parsing

class DocParser(object):
    """Checks one document against a mapping and computes the dynamic mapping update.

    Usage: p = DocParser(mapping, settings, doc_id, flavour); update = p.parse(source)
    update is a properties dict to merge (or None). Raises EsError."""

    def __init__(self, mapping, settings, doc_id, os_flavour=False):
        self.m = mapping
        self.settings = settings
        self.doc_id = doc_id
        self.os = os_flavour
        self.new = {}           # path -> field spec (leaf) or {"type": "object"/..., ...}
        self.new_objects = {}   # path -> object spec
        self.nested_count = 0
        cfg = mapping.parser_config(settings)
        (self.nested_limit, self.total_limit, self.depth_limit, self.date_detection,
         self.numeric_detection, self.date_formats, self.templates) = cfg

    def parse(self, source):
        if not isinstance(source, dict):
            raise mapper_error("failed to parse",
                               caused_by=EsError(400, "not_x_content_exception",
                                                 "Compressor detection can only be called on some "
                                                 "xcontent bytes or compressed xcontent bytes"))
        self._object(source, "", None, 0, self.m.level_root)
        if not self.new:
            return None
        if self.m.total_fields + self._count_new() > self.total_limit:
            raise illegal_argument("Limit of total fields [%d] has been exceeded" % self.total_limit)
        return self._as_properties()

    # -- walking -----------------------------------------------------------------------

    def _object(self, obj, prefix, nested_path, depth, level=None):
        if depth > self.depth_limit:
            raise illegal_argument("Limit of mapping depth [%d] has been exceeded due to object field [%s]"
                                   % (self.depth_limit, prefix.rstrip(".")))
        for key, value in obj.items():
            # fast path: a mapped name whose value is obviously acceptable (see _build_level)
            e = level.get(key) if level is not None else None
            if e is not None:
                if value is None:
                    continue
                code = e[0]
                tv = type(value)
                if code == 0:
                    ok, rng = e[1], e[2]
                    if tv in ok and (rng is None or tv is not int or rng[0] <= value <= rng[1]):
                        continue
                    if tv is list and all(type(x) in ok and (rng is None or type(x) is not int or
                                                             rng[0] <= x <= rng[1]) for x in value):
                        continue
                elif code == 1:
                    if tv is str and e[1]._valid.get(value):
                        continue
                elif code == 3:
                    if (tv is float or tv is int) and -e[1] <= value <= e[1]:
                        continue
                elif depth < self.depth_limit:
                    if tv is dict:
                        self._object(value, prefix + key + ".", nested_path, depth + 1, e[1])
                        continue
                    if tv is list and value and all(type(x) is dict for x in value):
                        for x in value:
                            self._object(x, prefix + key + ".", nested_path, depth + 1, e[1])
                        continue
            else:
                self._check_name(key, prefix)
            if "." in key:
                parts = key.split(".")
                if any(p == "" for p in parts):
                    if key.strip(".") == "":
                        raise illegal_argument("field name cannot contain only the character [.]")
                    raise illegal_argument("object field starting or ending with a [.] makes object "
                                           "resolution ambiguous: [%s]" % key)
                # "a.b": v is the same as {"a": {"b": v}}
                inner = value
                for p in reversed(parts[1:]):
                    inner = {p: inner}
                self._value(parts[0], inner, prefix, nested_path, depth)
            else:
                self._value(key, value, prefix, nested_path, depth)

    def _check_name(self, key, prefix):
        if key == "":
            raise mapper_error("failed to parse",
                               caused_by=illegal_argument("field name cannot be an empty string"))
        if key.strip(".") == "" and self.os:
            raise illegal_argument("field name cannot contain only the character [.]")
        if key.strip(".") == "":
            raise illegal_argument("field name cannot contain only dots")
        if not prefix and key in METADATA_FIELDS:
            raise mapper_error("Field [%s] is a metadata field and cannot be added inside a document. "
                               "Use the index API request parameters." % key)

    def _value(self, name, value, prefix, nested_path, depth):
        path = prefix + name
        f = self.m.fields.get(path) or self._new_field(path)
        if f is not None and not isinstance(f, dict):
            if f.type == "flat_object":
                for v in (value if isinstance(value, list) else [value]):
                    if v is not None and not isinstance(v, dict):
                        raise mapper_error(
                            "failed to parse field [%s] of type [flat_object] in document with id '%s'. Preview "
                            "of field's value: '%s'" % (path, self.doc_id, _preview(v)),
                            caused_by=EsError(400, "parsing_exception",
                                              "[%s] unexpected token [%s] in flat_object field value"
                                              % (path, _token_name(v))))
                return
            self._check_leaf(f, value, path)
            return
        if isinstance(f, dict):
            self._check_leaf(_SpecField(path, f), value, path)
            return
        o = self.m.objects.get(path) or self.new_objects.get(path)
        if o is not None:
            if isinstance(o, ObjectInfo):
                otype, enabled = o.type, o.enabled
            else:
                otype, enabled = o.get("type", "object"), True
            if not enabled:
                return
            self._object_value(path, value, otype, nested_path, depth)
            return
        # unmapped
        if value is None:
            return
        if isinstance(value, list):
            first = _first_non_null(value)
            if first is _NOTHING:
                return          # an empty array adds no mapping
            kind_value = first
        else:
            kind_value = value
        parent = prefix[:-1]
        dyn = self._dynamic(parent)
        if dyn == "strict":
            raise EsError(400, "strict_dynamic_mapping_exception",
                          "mapping set to strict, dynamic introduction of [%s] within [%s] is not allowed"
                          % (name, parent or "_doc"))
        if dyn in ("false", "runtime"):
            return
        mtype = self._mapping_type(kind_value)
        tmpl = self._template(name, path, mtype)
        if tmpl is None and dyn in ("strict_allow_templates",):
            raise EsError(400, "strict_dynamic_mapping_exception",
                          "mapping set to strict_allow_templates, dynamic introduction of [%s] within [%s] is not allowed"
                          % (name, parent or "_doc"))
        if tmpl is None and dyn == "false_allow_templates":
            return
        if isinstance(kind_value, dict):
            spec = dict(tmpl) if tmpl else {}
            if spec.get("type") == "nested":
                self.new_objects[path] = {"type": "nested"}
            else:
                spec.pop("type", None)
                self.new_objects[path] = {"type": "object"}
            self.new[path] = {"type": self.new_objects[path]["type"]}
            for sub, sspec in (spec.get("properties") or {}).items():
                self.new[path + "." + sub] = sspec
            self._object_value(path, value, self.new_objects[path]["type"], nested_path, depth)
            return
        spec = tmpl if tmpl else self._default_spec(mtype, kind_value)
        if spec.get("type") in ("object", "nested"):
            self.new_objects[path] = {"type": spec["type"]}
            self.new[path] = {"type": spec["type"]}
            self._object_value(path, value, spec["type"], nested_path, depth)
            return
        self.new[path] = spec
        self._check_leaf(_SpecField(path, spec), value, path)

    def _object_value(self, path, value, otype, nested_path, depth):
        if value is None:
            return
        np = path if otype == "nested" else nested_path
        items = value if isinstance(value, list) else [value]
        for item in _flatten(items):
            if item is None:
                continue
            if not isinstance(item, dict):
                raise mapper_error("object mapping for [%s] tried to parse field [%s] as object, but "
                                   "found a concrete value" % (path, path.rpartition(".")[2]))
            if otype == "nested":
                self.nested_count += 1
                if self.nested_count > self.nested_limit:
                    raise illegal_argument(
                        "The number of nested documents has exceeded the allowed limit of [%d]. This "
                        "limit can be set by changing the [index.mapping.nested_objects.limit] index "
                        "level setting." % self.nested_limit)
            self._object(item, path + ".", np, depth + 1)

    def _new_field(self, path):
        return self.new.get(path) if path in self.new and path not in self.new_objects else None

    def _dynamic(self, obj_path):
        p = obj_path
        while p:
            if p in self.new_objects:
                d = self.new_objects[p].get("dynamic")
                if d is not None:
                    return _dyn_value(d)
            o = self.m.objects.get(p)
            if o is not None and o.dynamic is not None:
                return o.dynamic
            p = p.rpartition(".")[0]
        d = self.m.root.get("dynamic")
        return _dyn_value(d) if d is not None else "true"

    def _mapping_type(self, v):
        if isinstance(v, bool):
            return "boolean"
        if isinstance(v, int):
            return "long"
        if isinstance(v, float):
            return "double"
        if isinstance(v, dict):
            return "object"
        if isinstance(v, str):
            if self._detect_date(v) is not None:
                return "date"
            return "string"
        return "string"

    def _detect_date(self, s):
        if not self.date_detection:
            return None
        if _looks_numeric(s):
            return None
        for f in self.date_formats:
            if f.parse(s) is not None:
                return f
        return None

    def _default_spec(self, mtype, v):
        if mtype == "boolean":
            return {"type": "boolean"}
        if mtype == "long":
            return {"type": "long"}
        if mtype == "double":
            return {"type": "float"}
        if mtype == "date":
            f = self._detect_date(v)
            if f is not None and f.text != "strict_date_optional_time":
                return {"type": "date", "format": f.text}
            return {"type": "date"}
        if self.numeric_detection and isinstance(v, str):
            if _looks_numeric(v):
                return {"type": "float"} if re.search(r"[.eE]", v) else {"type": "long"}
        return {"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 256}}}

    def _template(self, name, path, mtype):
        for t in self.templates:
            (tname, body), = t.items()
            mmt = body.get("match_mapping_type")
            if mmt is not None and mmt != "*":
                types = mmt if isinstance(mmt, list) else [mmt]
                if mtype not in types:
                    continue
            match_regex = body.get("match_pattern") == "regex"

            def m(pat, text):
                pats = pat if isinstance(pat, list) else [pat]
                for p in pats:
                    if (re.match(p, text) if match_regex else glob_match(p, text)):
                        return True
                return False

            if "match" in body and not m(body["match"], name):
                continue
            if "unmatch" in body and m(body["unmatch"], name):
                continue
            if "path_match" in body and not m(body["path_match"], path):
                continue
            if "path_unmatch" in body and m(body["path_unmatch"], path):
                continue
            mapping = body.get("mapping", {})
            dyn_type = {"string": "text", "double": "float"}.get(mtype, mtype)
            spec = _subst(mapping, name, dyn_type)
            if "type" not in spec and mtype != "object":
                spec = dict(spec, type=dyn_type if mtype != "string" else "text")
            return spec
        return None

    def _check_leaf(self, f, value, path):
        if value is None:
            return
        if isinstance(value, list):
            for v in _flatten(value):
                if v is not None:
                    check_value(f, v, path, self.doc_id)
            return
        check_value(f, value, path, self.doc_id)

    # -- result ------------------------------------------------------------------------

    def _count_new(self):
        n = 0
        for path, spec in self.new.items():
            n += 1 + len(spec.get("fields", {}) if isinstance(spec, dict) else {})
        return n

    def _as_properties(self):
        props = {}
        for path in sorted(self.new, key=lambda p: p.count(".")):
            spec = self.new[path]
            parts = path.split(".")
            cur = props
            for i, p in enumerate(parts[:-1]):
                node = cur.setdefault(p, {})
                o = self.m.objects.get(".".join(parts[:i + 1]))
                if o is not None and o.type == "nested":
                    node["type"] = "nested"
                cur = node.setdefault("properties", {})
            leaf = parts[-1]
            if spec.get("type") in ("object", "nested"):
                node = cur.setdefault(leaf, {})
                if spec["type"] == "nested":
                    node["type"] = "nested"
                node.setdefault("properties", {})
            else:
                cur[leaf] = spec
        return props


# value types that a field of a type always accepts without further checks
_FAST_OK = {"keyword": (str, int, float, bool), "text": (str, int, float, bool),
            "match_only_text": (str, int, float, bool), "wildcard": (str, int, float, bool),
            "long": (int,), "integer": (int,), "short": (int,), "byte": (int,),
            "double": (int, float), "scaled_float": (int, float), "boolean": (bool,)}


class _SpecField(object):
    """A field that is being added by this document (not yet compiled)."""
    __slots__ = ("path", "type", "params", "fmt")

    def __init__(self, path, spec):
        self.path = path
        self.type = spec.get("type")
        self.params = spec
        self.fmt = None
        if self.type in ("date", "date_nanos"):
            self.fmt = date_format(spec.get("format") or (DEFAULT_NANOS_FORMAT if self.type == "date_nanos"
                                                          else DEFAULT_DATE_FORMAT))


_NOTHING = object()


def _first_non_null(lst):
    for v in _flatten(lst):
        if v is not None:
            return v
    return _NOTHING


def _flatten(lst):
    for v in lst:
        if isinstance(v, list):
            for x in _flatten(v):
                yield x
        else:
            yield v


def _subst(obj, name, dyn_type):
    if isinstance(obj, dict):
        return {_subst(k, name, dyn_type): _subst(v, name, dyn_type) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_subst(v, name, dyn_type) for v in obj]
    if isinstance(obj, str):
        return obj.replace("{name}", name).replace("{dynamic_type}", dyn_type)
    return obj


_NUM_RE = re.compile(r"^\s*[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\s*$")


def _looks_numeric(s):
    return _NUM_RE.match(s) is not None


# ---------------------------------------------------------------------------------------
# value checks (what DocumentParser rejects)

def _preview(v):
    if isinstance(v, str):
        return v
    return _java_str(v)


def _parse_fail(path, ftype, doc_id, v, caused_by):
    return mapper_error("failed to parse field [%s] of type [%s] in document with id '%s'. "
                        "Preview of field's value: '%s'" % (path, ftype, doc_id, _preview(v)),
                        caused_by=caused_by)


def _token_name(v):
    if isinstance(v, dict):
        return "START_OBJECT"
    if isinstance(v, bool):
        return "VALUE_TRUE" if v else "VALUE_FALSE"
    if isinstance(v, int):
        return "VALUE_NUMBER_INT"
    if isinstance(v, float):
        return "VALUE_NUMBER_FLOAT"
    return "VALUE_STRING"


def check_value(f, v, path, doc_id):
    """Raises the mapper_parsing_exception a real node sends for a value the field cannot
    take; returns None. f has .type, .params, .fmt."""
    t = f.type
    if t is None:
        return
    p = f.params
    if isinstance(v, dict) and t not in ("geo_point", "geo_shape", "flat_object", "point",
                                         "shape", "join", "completion", "rank_features",
                                         "integer_range", "long_range", "float_range",
                                         "double_range", "date_range", "ip_range",
                                         "aggregate_metric_double", "histogram",
                                         "knn_vector", "dense_vector", "sparse_vector",
                                         "percolator", "semantic_text"):
        if p.get("ignore_malformed") in (True, "true"):
            return
        raise _parse_fail(path, t, doc_id, v,
                          EsError(400, "illegal_state_exception",
                                  "Can't get text on a START_OBJECT at 1:%d" % (len(path) + 4)))
    if t in INT_RANGES:
        if _int_value(v, t, p.get("coerce", True) not in (False, "false")) is None:
            if p.get("ignore_malformed") in (True, "true"):
                return
            raise _parse_fail(path, t, doc_id, v, _int_cause(v, t, p))
        return
    if t in ("double", "float", "half_float", "scaled_float"):
        d = _float_value(v, p.get("coerce", True) not in (False, "false"))
        if d is None:
            if p.get("ignore_malformed") in (True, "true"):
                return
            if isinstance(v, str):
                cause = EsError(400, "number_format_exception",
                                "For input string: \"%s\"" % v if v.strip() else "empty String")
            else:
                cause = EsError(400, "json_parse_exception",
                                "Current token (%s) not numeric, can not use numeric value accessors"
                                % _token_name(v))
            raise _parse_fail(path, t, doc_id, v, cause)
        limit = {"float": 3.4028234663852886e38, "half_float": 65504.0}.get(t)
        if not math.isfinite(d) or (limit is not None and abs(d) > limit):
            if p.get("ignore_malformed") in (True, "true"):
                return
            shown = java_double_str(d) if math.isfinite(d) else ("Infinity" if d > 0 else "-Infinity")
            if limit is not None and math.isfinite(d):
                shown = "Infinity" if d > 0 else "-Infinity"
            raise _parse_fail(path, t, doc_id, v,
                              illegal_argument("[%s] supports only finite values, but got [%s]" % (t, shown)))
        return
    if t == "boolean":
        if isinstance(v, bool) or v in ("true", "false", ""):
            return
        if isinstance(v, str):
            raise _parse_fail(path, t, doc_id, v,
                              illegal_argument("Failed to parse value [%s] as only [true] or [false] are allowed." % v))
        raise _parse_fail(path, t, doc_id, v,
                          EsError(400, "json_parse_exception",
                                  "Current token (%s) not of boolean type" % _token_name(v)))
    if t in ("date", "date_nanos"):
        if isinstance(v, bool):
            raise _parse_fail(path, t, doc_id, v,
                              illegal_argument("failed to parse date field [%s] with format [%s]"
                                               % (_java_str(v), f.fmt.text)))
        if not f.fmt.valid(v):
            if p.get("ignore_malformed") in (True, "true"):
                return
            raise _parse_fail(path, t, doc_id, v,
                              illegal_argument("failed to parse date field [%s] with format [%s]"
                                               % (_java_str(v), f.fmt.text),
                                               caused_by=EsError(400, "date_time_parse_exception",
                                                                 "Failed to parse with all enclosed parsers")))
        return
    if t == "ip":
        try:
            ipaddress.ip_address(str(v))
        except ValueError:
            if p.get("ignore_malformed") in (True, "true"):
                return
            raise _parse_fail(path, t, doc_id, v,
                              illegal_argument("'%s' is not an IP string literal." % _java_str(v)))
        return
    if t == "constant_keyword":
        expected = p.get("value")
        if expected is not None and str(v) != str(expected) and not (isinstance(v, (int, float)) and str(v) == str(expected)):
            raise mapper_error("constant_keyword field [%s] only accepts values that are equal to the "
                               "value defined in the mappings [%s], but got [%s]" % (path, expected, v))
        return


def _int_value(v, t, coerce=True):
    lo, hi = INT_RANGES[t]
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v if lo <= v <= hi else None
    if isinstance(v, float):
        if not math.isfinite(v) or (not coerce and v != int(v)):
            return None
        iv = int(v)
        return iv if lo <= iv <= hi else None
    if isinstance(v, str):
        s = v.strip()
        try:
            iv = int(s)
        except ValueError:
            if not coerce:
                return None
            if not _looks_numeric(s):
                return None
            try:
                if t == "unsigned_long" and "." in s and "e" not in s.lower():
                    iv = int(s.split(".")[0] or "0")
                else:
                    d = float(s)
                    if not math.isfinite(d):
                        return None
                    iv = int(d)
            except ValueError:
                return None
        return iv if lo <= iv <= hi else None
    return None


def _int_cause(v, t, p):
    if isinstance(v, str):
        s = v.strip()
        if _looks_numeric(s):
            return illegal_argument("Value [%s] is out of range for %s" % (s, INT_NAMES[t]))
        return EsError(400, "number_format_exception",
                       "For input string: \"%s\"" % v if s else "empty String")
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        if isinstance(v, float) and p.get("coerce", True) in (False, "false"):
            return illegal_argument("Value [%s] has a decimal part" % java_double_str(v))
        return EsError(400, "input_coercion_exception",
                       "Numeric value (%s) out of range of %s (%d - %d)"
                       % (v, "long" if t == "long" else "int", INT_RANGES[t][0], INT_RANGES[t][1]))
    return EsError(400, "json_parse_exception",
                   "Current token (%s) not numeric, can not use numeric value accessors" % _token_name(v))


def _float_value(v, coerce=True):
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str):
        s = v.strip()
        if not coerce:
            return None
        if s in ("NaN", "Infinity", "-Infinity", "+Infinity"):
            return float(s.replace("+", ""))
        if not _looks_numeric(s):
            return None
        try:
            return float(s)
        except ValueError:
            return None
    return None


# ---------------------------------------------------------------------------------------
# values for search

def value_for(f, v):
    """The indexed (doc value) form of one source value, or None when it is not indexed."""
    t = f.type
    if v is None:
        nv = f.params.get("null_value") if isinstance(f.params, dict) else None
        if nv is None:
            return None
        v = nv
    if t == "keyword" or t == "wildcard" or t == "constant_keyword":
        if isinstance(v, dict) or isinstance(v, list):
            return None
        s = _text(v)
        ia = f.params.get("ignore_above")
        if ia is not None and len(s) > int(ia):
            return None
        return s
    if t in INT_RANGES:
        return _int_value(v, t)
    if t == "double":
        return _float_value(v)
    if t == "float":
        d = _float_value(v)
        return None if d is None else float32(d)
    if t == "half_float":
        d = _float_value(v)
        return None if d is None else half_float(d)
    if t == "scaled_float":
        d = _float_value(v)
        if d is None:
            return None
        sf = float(f.params.get("scaling_factor", 1))
        return math.floor(d * sf + 0.5) / sf
    if t == "boolean":
        if v is True or v == "true":
            return True
        if v is False or v == "false" or v == "":
            return False
        return None
    if t == "date":
        n = f.fmt.parse(v)
        return None if n is None else n // 1000000
    if t == "date_nanos":
        return f.fmt.parse(v)
    if t == "ip":
        try:
            return str(ipaddress.ip_address(str(v)))
        except ValueError:
            return None
    if t in ("text", "match_only_text"):
        if isinstance(v, (dict, list)):
            return None
        return _text(v)
    if t == "flat_object":
        return None
    if isinstance(v, (dict, list)):
        return None
    return _text(v)


def _text(v):
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, float):
        if v == int(v) and abs(v) < 1e16:
            return "%.1f" % v
        return repr(v)
    return str(v)


# ---------------------------------------------------------------------------------------
# dates

_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]


_DATE_FORMATS = {}


def date_format(text):
    """A cached DateFormat (compiling a pattern costs more than parsing a date)."""
    key = "||".join(text) if isinstance(text, list) else text
    f = _DATE_FORMATS.get(key)
    if f is None:
        f = DateFormat(text)
        if len(_DATE_FORMATS) > 1000:
            _DATE_FORMATS.clear()
        _DATE_FORMATS[key] = f
    return f


class DateFormat(object):
    """A "fmt1||fmt2" date format. parse() returns epoch nanoseconds or None."""

    def __init__(self, text):
        if isinstance(text, list):
            text = "||".join(text)
        self.text = text
        self.parts = []
        self._valid = {}
        for part in text.split("||"):
            part = part.strip()
            if not part:
                raise ValueError("empty format")
            self.parts.append(_compile_format(part))

    def parse(self, v):
        for kind, fn in self.parts:
            r = fn(v)
            if r is not None:
                return r
        return None

    def valid(self, v):
        """parse(v) is not None, remembered for recently seen strings (documents repeat dates)."""
        if type(v) is not str:
            return self.parse(v) is not None
        cache = self._valid
        r = cache.get(v)
        if r is None:
            r = self.parse(v) is not None
            if len(cache) > 20000:
                cache.clear()
            cache[v] = r
        return r

    def format_millis(self, ms):
        return self.format_nanos(ms * 1000000)

    def format_nanos(self, ns):
        kind, _ = self.parts[0]
        name = self.text.split("||")[0].strip()
        if name in ("epoch_millis",):
            return str(ns // 1000000)
        if name == "epoch_second":
            return str(ns // 1000000000)
        secs, rem = divmod(ns, 1000000000)
        dt = datetime.datetime(1970, 1, 1) + datetime.timedelta(seconds=secs)
        if kind == "pattern":
            return _format_pattern(name, dt, rem)
        frac = ("%09d" % rem)
        if name.endswith("_nanos") or "nanos" in name:
            frac = frac.rstrip("0") or "0"
            frac = frac.ljust(3, "0") if len(frac) < 3 else frac
        else:
            frac = frac[:3]
        if name in ("strict_date", "date", "year_month_day", "strict_year_month_day"):
            return dt.strftime("%Y-%m-%d")
        return dt.strftime("%Y-%m-%dT%H:%M:%S") + "." + frac + "Z"


_NAMED = {
    "strict_date_optional_time": True, "date_optional_time": False,
    "strict_date_optional_time_nanos": True, "strict_date_time": True, "date_time": False,
    "strict_date_time_no_millis": True, "date_time_no_millis": False,
    "strict_date": True, "date": False, "strict_year_month_day": True, "year_month_day": False,
    "strict_date_hour_minute_second": True, "date_hour_minute_second": False,
    "strict_date_hour_minute_second_millis": True, "date_hour_minute_second_millis": False,
    "strict_date_hour_minute_second_fraction": True, "date_hour_minute_second_fraction": False,
    "strict_date_hour_minute": True, "date_hour_minute": False,
    "strict_year": True, "year": False, "strict_year_month": True, "year_month": False,
    "basic_date": True, "basic_date_time": True, "basic_date_time_no_millis": True,
    "iso8601": False,
}

_ISO_STRICT = re.compile(
    r"^(?P<y>\d{4})(?:-(?P<M>\d{2})(?:-(?P<d>\d{2})(?:T(?P<H>\d{2})(?::(?P<m>\d{2})(?::(?P<s>\d{2})"
    r"(?:[.,](?P<f>\d{1,9}))?)?)?(?P<z>Z|[+-]\d{2}(?::?\d{2})?)?)?)?)?$")
_ISO_LOOSE = re.compile(
    r"^(?P<y>[+-]?\d{1,9})(?:-(?P<M>\d{1,2})(?:-(?P<d>\d{1,2})(?:T(?P<H>\d{1,2})(?::(?P<m>\d{1,2})(?::(?P<s>\d{1,2})"
    r"(?:[.,](?P<f>\d{1,9}))?)?)?(?P<z>Z|[+-]\d{2}(?::?\d{2})?)?)?)?)?$")
_BASIC = re.compile(r"^(?P<y>\d{4})(?P<M>\d{2})(?P<d>\d{2})(?:T(?P<H>\d{2})(?P<m>\d{2})(?P<s>\d{2})"
                    r"(?:\.(?P<f>\d{1,9}))?(?P<z>Z|[+-]\d{2}:?\d{2}))?$")


def _compile_format(name):
    if name == "epoch_millis":
        return ("epoch", lambda v: _epoch(v, 1000000))
    if name == "epoch_second":
        return ("epoch", lambda v: _epoch(v, 1000000000))
    if name in _NAMED:
        strict = _NAMED[name]
        rx = _BASIC if name.startswith("basic_") else (_ISO_STRICT if strict else _ISO_LOOSE)
        need_time = name in ("strict_date_time", "date_time", "strict_date_time_no_millis",
                             "date_time_no_millis", "basic_date_time", "basic_date_time_no_millis",
                             "strict_date_hour_minute_second", "date_hour_minute_second",
                             "strict_date_hour_minute_second_millis", "date_hour_minute_second_millis",
                             "strict_date_hour_minute_second_fraction", "strict_date_hour_minute",
                             "date_hour_minute")
        date_only = name in ("strict_date", "date", "strict_year_month_day", "year_month_day",
                             "basic_date")
        year_only = name in ("strict_year", "year")
        year_month = name in ("strict_year_month", "year_month")

        def parse_named(v, rx=rx, need_time=need_time, date_only=date_only, year_only=year_only,
                        year_month=year_month):
            if not isinstance(v, str):
                return None
            m = rx.match(v)
            if not m:
                return None
            g = m.groupdict()
            if need_time and g.get("H") is None:
                return None
            if date_only and (g.get("d") is None or g.get("H") is not None):
                return None
            if year_only and g.get("M") is not None:
                return None
            if year_month and (g.get("M") is None or g.get("d") is not None):
                return None
            return _to_nanos(g)
        return ("named", parse_named)
    rx, fields = _pattern_regex(name)

    def parse_pattern(v, rx=rx):
        if not isinstance(v, str):
            return None
        m = rx.match(v)
        if not m:
            return None
        return _to_nanos(m.groupdict())
    return ("pattern", parse_pattern)


def _epoch(v, mult):
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        if isinstance(v, float) and not math.isfinite(v):
            return None
        return int(v * mult)
    if isinstance(v, str) and re.match(r"^-?\d+(\.\d+)?$", v.strip()):
        s = v.strip()
        if "." in s:
            whole, frac = s.split(".")
            n = int(whole) * mult
            fr = int(frac.ljust(9, "0")[:9]) * mult // 1000000000
            return n + (fr if not whole.startswith("-") else -fr)
        return int(s) * mult
    return None


def _to_nanos(g):
    try:
        y = int(g.get("y") or 1970)
        if g.get("yy") is not None:
            y = 2000 + int(g["yy"])
        mo = g.get("M")
        if mo is not None and not mo.isdigit():
            mo = _MONTHS.index(mo[:3].lower()) + 1
        mo = int(mo or 1)
        d = int(g.get("d") or 1)
        h = int(g.get("H") or 0)
        if g.get("h") is not None:
            h = int(g["h"]) % 12 + (12 if (g.get("a") or "").upper() == "PM" else 0)
        mi = int(g.get("m") or 0)
        s = int(g.get("s") or 0)
        f = g.get("f") or ""
        if not (1 <= mo <= 12 and 1 <= d <= 31 and h <= 23 and mi <= 59 and s <= 60):
            return None
        if d > calendar.monthrange(y if 1 <= y <= 9999 else 2000, mo)[1]:
            return None
        if 1 <= y <= 9999:
            secs = calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0))
        else:
            secs = int((datetime.datetime(2000, mo, d, h, mi, s) - datetime.datetime(1970, 1, 1))
                       .total_seconds()) + int((y - 2000) * 365.2425 * 86400)
        nanos = int(f.ljust(9, "0")[:9]) if f else 0
        z = g.get("z")
        if z and z not in ("Z", "z"):
            sign = -1 if z[0] == "-" else 1
            zz = z[1:].replace(":", "")
            off = int(zz[:2]) * 3600 + (int(zz[2:4]) * 60 if len(zz) >= 4 else 0)
            secs -= sign * off
        return secs * 1000000000 + nanos
    except (ValueError, OverflowError, IndexError):
        return None


_PATTERN_TOKEN = re.compile(r"'[^']*'|([a-zA-Z])\1*|.", re.S)


def _pattern_regex(pattern):
    out = []
    fields = []
    for m in _PATTERN_TOKEN.finditer(pattern):
        tok = m.group(0)
        if tok.startswith("'"):
            out.append(re.escape(tok[1:-1]) if len(tok) > 2 else "'")
            continue
        c = tok[0]
        n = len(tok)
        if c in "yu":
            out.append(r"(?P<yy>\d{2})" if n == 2 else r"(?P<y>\d{4})" if n == 4 else r"(?P<y>[+-]?\d{1,9})")
        elif c == "M" or c == "L":
            if n >= 3:
                out.append(r"(?P<M>[A-Za-z]{3,9})")
            else:
                out.append(r"(?P<M>\d{2})" if n == 2 else r"(?P<M>\d{1,2})")
        elif c == "d":
            out.append(r"(?P<d>\d{2})" if n == 2 else r"(?P<d>\d{1,2})")
        elif c == "H":
            out.append(r"(?P<H>\d{2})" if n == 2 else r"(?P<H>\d{1,2})")
        elif c in "hK":
            out.append(r"(?P<h>\d{1,2})")
        elif c == "m":
            out.append(r"(?P<m>\d{2})" if n == 2 else r"(?P<m>\d{1,2})")
        elif c == "s":
            out.append(r"(?P<s>\d{2})" if n == 2 else r"(?P<s>\d{1,2})")
        elif c in "Sn":
            out.append(r"(?P<f>\d{%d})" % n)
        elif c in "ZXxO":
            out.append(r"(?P<z>Z|[+-]\d{2}:?\d{2}|[+-]\d{2})")
        elif c == "a":
            out.append(r"(?P<a>AM|PM|am|pm)")
        elif c == "E":
            out.append(r"[A-Za-z]{3,9}")
        elif c == "T":
            out.append("T")
        elif c.isalpha():
            raise ValueError("Unknown pattern letter: %s" % c)
        else:
            out.append(re.escape(tok))
        fields.append(c)
    return re.compile("^" + "".join(out) + "$"), fields


def _format_pattern(pattern, dt, nanos):
    out = []
    for m in _PATTERN_TOKEN.finditer(pattern):
        tok = m.group(0)
        if tok.startswith("'"):
            out.append(tok[1:-1] if len(tok) > 2 else "'")
            continue
        c, n = tok[0], len(tok)
        if c in "yu":
            out.append("%02d" % (dt.year % 100) if n == 2 else "%04d" % dt.year)
        elif c == "M":
            out.append(_MONTHS[dt.month - 1].capitalize() if n >= 3 else ("%02d" % dt.month if n == 2 else str(dt.month)))
        elif c == "d":
            out.append("%02d" % dt.day if n == 2 else str(dt.day))
        elif c == "H":
            out.append("%02d" % dt.hour if n == 2 else str(dt.hour))
        elif c == "m":
            out.append("%02d" % dt.minute if n == 2 else str(dt.minute))
        elif c == "s":
            out.append("%02d" % dt.second if n == 2 else str(dt.second))
        elif c in "Sn":
            out.append(("%09d" % nanos)[:n])
        elif c in "ZXx":
            out.append("Z" if c == "X" else "+0000")
        else:
            out.append(tok)
    return "".join(out)


_MATH_RE = re.compile(r"([+-])(\d+)([yMwdhHms])|/([yMwdhHms])")


def parse_date_math(v, fmt, round_up=False, now_ms=None):
    """Date math as in range queries: "now-7d/d", "2020-01-01||+1M". Returns epoch nanos."""
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        n = fmt.parse(v)
        return n
    if not isinstance(v, str):
        return None
    if v.startswith("now"):
        base = (now_ms if now_ms is not None else int(time.time() * 1000)) * 1000000
        rest = v[3:]
    elif "||" in v:
        head, rest = v.split("||", 1)
        base = fmt.parse(head)
        if base is None:
            return None
    else:
        return fmt.parse(v)
    dt = datetime.datetime(1970, 1, 1) + datetime.timedelta(microseconds=base // 1000)
    pos = 0
    for m in _MATH_RE.finditer(rest):
        if m.start() != pos:
            return None
        pos = m.end()
        if m.group(4):
            dt = _round(dt, m.group(4), round_up)
        else:
            n = int(m.group(2)) * (1 if m.group(1) == "+" else -1)
            u = m.group(3)
            if u == "y":
                dt = dt.replace(year=dt.year + n)
            elif u == "M":
                mo = dt.month - 1 + n
                dt = dt.replace(year=dt.year + mo // 12, month=mo % 12 + 1)
            else:
                dt += datetime.timedelta(seconds=n * {"w": 604800, "d": 86400, "h": 3600, "H": 3600,
                                                      "m": 60, "s": 1}[u])
    if pos != len(rest):
        return None
    delta = dt - datetime.datetime(1970, 1, 1)
    return (delta.days * 86400 + delta.seconds) * 1000000000 + delta.microseconds * 1000


def _round(dt, unit, up):
    if unit == "y":
        lo = dt.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
        hi = lo.replace(year=lo.year + 1)
    elif unit == "M":
        lo = dt.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        hi = lo.replace(year=lo.year + (lo.month // 12), month=lo.month % 12 + 1)
    elif unit == "w":
        lo = (dt - datetime.timedelta(days=dt.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
        hi = lo + datetime.timedelta(days=7)
    elif unit == "d":
        lo = dt.replace(hour=0, minute=0, second=0, microsecond=0)
        hi = lo + datetime.timedelta(days=1)
    elif unit in "hH":
        lo = dt.replace(minute=0, second=0, microsecond=0)
        hi = lo + datetime.timedelta(hours=1)
    elif unit == "m":
        lo = dt.replace(second=0, microsecond=0)
        hi = lo + datetime.timedelta(minutes=1)
    else:
        lo = dt.replace(microsecond=0)
        hi = lo + datetime.timedelta(seconds=1)
    return hi - datetime.timedelta(microseconds=1) if up else lo


# ---------------------------------------------------------------------------------------
# analysis (an approximation of Lucene's analyzers, enough for match queries in tests)

_CJK = re.compile(r"([\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af])")
_WORD = re.compile(r"\w+(?:[.'\u2019:]\w+)*|\d+(?:[,;]\d+)+", re.U)
STOP_WORDS = set("a an and are as at be but by for if in into is it no not of on or such that the "
                 "their then there these they this to was will with".split())
KNOWN_FILTERS = {"lowercase", "uppercase", "asciifolding", "trim", "stop", "unique", "reverse",
                 "length", "porter_stem", "stemmer", "snowball", "kstem", "synonym",
                 "synonym_graph", "word_delimiter", "word_delimiter_graph", "ngram", "edge_ngram",
                 "shingle", "elision", "apostrophe", "cjk_width", "cjk_bigram", "decimal_digit",
                 "classic", "truncate", "limit", "keyword_marker", "english_possessive_stemmer",
                 "flatten_graph", "remove_duplicates", "pattern_replace", "icu_folding",
                 "icu_normalizer", "german_normalization", "min_hash", "fingerprint",
                 "hunspell", "delimited_payload", "common_grams", "stemmer_override",
                 "multiplexer", "condition", "predicate_token_filter", "keep", "keep_types",
                 "hyphenation_decompounder", "dictionary_decompounder", "phonetic"}
BUILTIN_ANALYZERS = {"standard", "simple", "whitespace", "stop", "keyword", "pattern",
                     "english", "fingerprint", "default", "french", "german", "spanish",
                     "italian", "portuguese", "dutch", "russian", "arabic", "cjk", "icu_analyzer"}


def _fold(s):
    import unicodedata
    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))


def tokenize(text, tokenizer="standard"):
    if tokenizer == "keyword":
        return [text]
    if tokenizer == "whitespace":
        return text.split()
    if tokenizer in ("letter", "lowercase"):
        toks = re.findall(r"[^\W\d_]+", text)
        return [t.lower() for t in toks] if tokenizer == "lowercase" else toks
    text = _CJK.sub(r" \1 ", text)
    return _WORD.findall(text)


def analyze(text, analyzer, settings):
    """Analyses text with a named analyzer (built-in or defined in index settings)."""
    if analyzer in (None, "default", "standard", "english", "fingerprint", "french", "german",
                    "spanish", "italian", "portuguese", "dutch", "russian", "arabic", "cjk",
                    "icu_analyzer"):
        custom = settings.get("index.analysis.analyzer.default.type") if analyzer in (None, "default") else None
        if custom is None:
            toks = [t.lower() for t in tokenize(text)]
            if analyzer == "english":
                toks = [t for t in toks if t not in STOP_WORDS]
            return toks
        analyzer = "default"
    if analyzer == "simple":
        return [t.lower() for t in re.findall(r"[^\W\d_]+", text)]
    if analyzer == "whitespace":
        return text.split()
    if analyzer == "keyword":
        return [text]
    if analyzer == "stop":
        return [t.lower() for t in re.findall(r"[^\W\d_]+", text) if t.lower() not in STOP_WORDS]
    base = "index.analysis.analyzer.%s." % analyzer
    tok = settings.get(base + "tokenizer", "standard")
    atype = settings.get(base + "type", "custom")
    if atype != "custom":
        return analyze(text, atype, {})
    ttype = settings.get("index.analysis.tokenizer.%s.type" % tok, tok)
    if ttype == "pattern":
        pat = settings.get("index.analysis.tokenizer.%s.pattern" % tok, r"\W+")
        toks = [t for t in re.split(pat, text) if t]
    else:
        toks = tokenize(text, ttype)
    return apply_filters(toks, _list_setting(settings, base + "filter"), settings)


def _list_setting(settings, key):
    v = settings.get(key)
    if v is not None:
        return v if isinstance(v, list) else [x.strip() for x in str(v).strip("[]").split(",") if x.strip()]
    out = []
    i = 0
    while (key + ".%d" % i) in settings:
        out.append(settings[key + ".%d" % i])
        i += 1
    return out


def apply_filters(toks, filters, settings):
    for flt in filters:
        ftype = settings.get("index.analysis.filter.%s.type" % flt, flt)
        if ftype == "lowercase":
            toks = [t.lower() for t in toks]
        elif ftype == "uppercase":
            toks = [t.upper() for t in toks]
        elif ftype == "asciifolding":
            toks = [_fold(t) for t in toks]
        elif ftype == "trim":
            toks = [t.strip() for t in toks]
        elif ftype == "stop":
            toks = [t for t in toks if t.lower() not in STOP_WORDS]
        elif ftype == "unique":
            seen = set()
            toks = [t for t in toks if not (t in seen or seen.add(t))]
        elif ftype == "reverse":
            toks = [t[::-1] for t in toks]
    return toks


def normalize_keyword(value, normalizer, settings):
    if not normalizer:
        return value
    if normalizer == "lowercase":
        return value.lower()
    filters = _list_setting(settings, "index.analysis.normalizer.%s.filter" % normalizer)
    toks = apply_filters([value], filters, settings)
    return toks[0] if toks else value


def check_analysis_settings(settings):
    """Rejects analyzers that reference unknown tokenizers or filters, like a real node."""
    for key, val in settings.items():
        if key.startswith("index.analysis.analyzer.") and key.endswith(".filter") or \
                re.match(r"^index\.analysis\.analyzer\.[^.]+\.filter\.\d+$", key):
            name = key.split(".")[3]
            flist = val if isinstance(val, list) else [val]
            for flt in flist:
                if ("index.analysis.filter.%s.type" % flt) not in settings and flt not in KNOWN_FILTERS:
                    raise illegal_argument("failed to find filter under name [%s]" % flt)
        if key.startswith("index.analysis.analyzer.") and key.endswith(".tokenizer"):
            tok = val
            if ("index.analysis.tokenizer.%s.type" % tok) not in settings and tok not in (
                    "standard", "whitespace", "keyword", "letter", "lowercase", "classic",
                    "uax_url_email", "pattern", "ngram", "edge_ngram", "path_hierarchy",
                    "char_group", "simple_pattern", "simple_pattern_split", "thai", "icu_tokenizer"):
                raise illegal_argument("failed to find tokenizer under name [%s]" % tok)
