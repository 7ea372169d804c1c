#!/usr/bin/env python3
"""The listing commands against a real DynamoDB Local: `tables` reads every page
of ListTables (more than its 100-name page), `entities` names each entity with
its tables and file, `envs` lists the configuration; none prints a secret."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import Services, Suite, check, check_eq  # noqa: E402

suite = Suite()
N_TABLES = 105  # ListTables answers at most 100 names a page


@suite.test
def tables_lists_every_page(s):
    names = ["Persons", "TenureInformation", "Assets"] + ["Extra%03d" % i for i in range(N_TABLES - 3)]
    for n in names[:3]:
        s.ddb.create_table(n)
    for n in names[3:]:
        s.ddb.call("CreateTable", {"TableName": n, "BillingMode": "PAY_PER_REQUEST",
                                   "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
                                   "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}]})
    rc, out, err = s.run_ddb2es(["tables", "--env", "local", "--config", s.config_path])
    check_eq(rc, 0, "exit code (stderr: %s)" % err[-500:])
    rows = dict(line.split(None, 1) for line in out.splitlines() if line.strip())
    check_eq(sorted(rows), sorted(names), "tables listed")
    check_eq(rows["Persons"].strip(), "persons", "entity of Persons")
    check_eq(rows["TenureInformation"].strip(), "tenures", "entity of TenureInformation")
    check_eq(rows["Assets"].strip(), "assets", "entity of Assets")
    check_eq(rows["Extra000"].strip(), "-", "a table no entity matches")


@suite.test
def entities_lists_tables_and_files(s):
    rc, out, err = s.run_ddb2es(["entities", "--env", "local", "--config", s.config_path])
    check_eq(rc, 0, "exit code (stderr: %s)" % err[-500:])
    lines = out.splitlines()
    check(lines[0].split() == ["ENTITY", "TABLES", "FILE"], "header: %r" % lines[0])
    got = {l.split()[0]: l.split()[1:] for l in lines[1:] if l.strip()}
    for name, table in (("persons", "Persons"), ("tenures", "TenureInformation"), ("assets", "Assets")):
        check(name in got, "entity %s listed: %r" % (name, out))
        check_eq(got[name][0], table, "tables of %s" % name)
        check(got[name][1].endswith("assets/entities/%s.json" % name), "file of %s: %s" % (name, got[name][1]))


@suite.test
def envs_lists_without_secrets(s):
    rc, out, err = s.run_ddb2es(["envs", "--config", s.config_path])
    check_eq(rc, 0, "exit code (stderr: %s)" % err[-500:])
    check("local" in out and s.es_url in out, "environment and its cluster listed: %r" % out)
    secret = s.env.get("AWS_SECRET_ACCESS_KEY", "")
    check(secret and secret not in out + err, "the secret key is never printed")


@suite.test
def tables_unknown_option_is_a_usage_error(s):
    rc, out, err = s.run_ddb2es(["tables", "--nope", "--config", s.config_path])
    check_eq(rc, 2, "exit code")
    check("usage: ddb2es tables" in err, "usage shown: %r" % err)


if __name__ == "__main__":
    suite.main(lambda: Services(flavour="es8"))
