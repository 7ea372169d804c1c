"""Text analysis of the Elasticsearch-compatible test server.

DESIGN: an approximation of Lucene's analyzers, enough for match queries in tests: the
standard tokenizer (words, numbers, CJK characters one by one) and the common built-in
analyzers, custom analyzers and normalizers assembled from index settings with the simple
token filters (lowercase, asciifolding, stop ...). check_analysis_settings() refuses, like a
real node, analyzers that name a tokenizer or filter nobody defined.
"""

import re

from es_common import illegal_argument


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
