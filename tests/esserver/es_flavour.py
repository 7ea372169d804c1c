"""Flavours of the Elasticsearch-compatible test server.

DESIGN: everything that differs between the products the server imitates (Elasticsearch
7.10, 8.12, 9.1, OpenSearch 2.13) is one attribute of Flavour, named after the behaviour it
switches, so the rest of the server asks "flavour.shard_doc" rather than comparing names.
ROOTS holds the body of GET / of each product, as a real node sends it.
"""

import re


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
