"""Document parsing and dynamic mapping of the Elasticsearch-compatible test server.

DESIGN: DocParser checks one document against a Mapping the way DocumentParser does:
  - a value that a mapped field cannot take fails with mapper_parsing_exception (the checks
    themselves are es_values.check_value);
  - unmapped fields are added by dynamic mapping (strings become text + keyword sub-field,
    dates are detected, integers become long, decimals float), honouring "dynamic"
    (true / false / strict, and OpenSearch's strict_allow_templates / false_allow_templates),
    dynamic_templates and the total-fields limit;
  - the mapping update is computed on the side and applied only when the whole document
    parsed, so a failing document leaves no trace.
Mapped names whose values are plainly acceptable take a fast path (Mapping.level_root), which
keeps bulk indexing of documents that match their mapping cheap.
"""

import re

from es_common import EsError, glob_match, illegal_argument, mapper_error
from es_dates import field_date_format
from es_mapping import ObjectInfo
from es_values import as_text, check_value, looks_numeric, token_name, value_preview

METADATA_FIELDS = {"_id", "_index", "_routing", "_source", "_type", "_seq_no", "_version",
                   "_primary_term", "_field_names", "_ignored", "_nested_path", "_data_stream_timestamp",
                   "_doc_count", "_tier", "_size", "_feature", "_parent"}


class DocParser(object):
    """Checks one document against a mapping and computes the dynamic mapping update.

    Usage: p = DocParser(mapping, settings, doc_id, is_opensearch); update = p.parse(source)
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
                            "of field's value: '%s'" % (path, self.doc_id, value_preview(v)),
                            caused_by=EsError(400, "parsing_exception",
                                              "[%s] unexpected token [%s] in flat_object field value"
                                              % (path, token_name(v))))
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
                    return as_text(d)
            o = self.m.objects.get(p)
            if o is not None and o.dynamic is not None:
                return o.dynamic
            p = p.rpartition(".")[0]
        d = self.m.root.get("dynamic")
        return as_text(d) if d is not None else "true"

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
        if looks_numeric(s):
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
            if looks_numeric(v):
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


class _SpecField(object):
    """A field that is being added by this document (not yet compiled)."""
    __slots__ = ("path", "type", "params", "fmt")

    def __init__(self, path, spec):
        self.path = path
        self.type = spec.get("type")
        self.params = spec
        self.fmt = None
        if self.type in ("date", "date_nanos"):
            self.fmt = field_date_format(self.type, spec.get("format"))


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
