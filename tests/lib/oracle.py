"""The expected Elasticsearch document for a DynamoDB item, written from the
written specification of the mapping only (independent of the C code).

    persons(item) -> dict     CONTRACT OF THE FIRST MILESTONE (walking skeleton)
    tenures(item) -> dict     provisional: may need small alignment with the
    assets(item)  -> dict     decisions recorded in assets/entities/*.json

Aligned with the decisions of assets/entities/README.md (the shipped entity
files): the shapes below are the ones that README documents.

`item` is an item in DynamoDB JSON AS READ BACK from DynamoDB (a Scan or
GetItem answer), not as written: DynamoDB normalises numbers ("2.50" comes
back "2.5") and orders string sets, and ddb2es sees what DynamoDB returns.

Rules shared by the three entities
- A "scalar" is an S or an N: its text is the string, or the number's
  decimal text exactly as DynamoDB returns it. Anything else (NULL, M, L,
  sets, BOOL, B) is "present but not scalar" and gives null.
- Top-level strings: the text; "" when the attribute is missing; null when it
  is present but not a scalar.
- Inside nested objects a missing string is null (unless stated otherwise:
  assets' assetAddress and tenure members are "" when missing).
- A nested object or list that is missing or NULL is null; a NULL element
  of a list of objects is null. An object or list of another type makes the
  whole item fail to map (the old indexer threw): the oracle raises
  Unspecified, and the generators never produce one.
"""

import datetime
import re


class Unspecified(ValueError):
    """The item holds a shape the specification does not define."""


def _type(av):
    (t, v), = av.items()
    return t, v


def scalar(av):
    """Text of an S/N; None for anything else (NULL, M, L, sets, BOOL, B)."""
    t, v = _type(av)
    if t in ("S", "N"):
        return v
    if t in ("NULL", "M", "L", "SS", "NS", "BS", "BOOL", "B"):
        return None
    raise Unspecified("unknown attribute type %s" % t)


def top_string(item, name):
    """Top-level string: "" missing, None not scalar, else its text."""
    if name not in item:
        return ""
    return scalar(item[name])


def nested_string(m, name, missing=None):
    """String member of a nested M: `missing` when absent, None when not scalar."""
    if name not in m:
        return missing
    return scalar(m[name])


def nested_map(item, name):
    """The members of an M attribute, or None when missing or NULL."""
    if name not in item:
        return None
    t, v = _type(item[name])
    if t == "NULL":
        return None
    if t != "M":
        raise Unspecified("%s is a %s, not an M" % (name, t))
    return v


def nested_list(item, name):
    """The elements of an L attribute, or None when missing or NULL."""
    if name not in item:
        return None
    t, v = _type(item[name])
    if t == "NULL":
        return None
    if t != "L":
        raise Unspecified("%s is a %s, not an L" % (name, t))
    return v


def _list_of_maps(item, name):
    """Members of each M of an L (None for a NULL element), or None."""
    elems = nested_list(item, name)
    if elems is None:
        return None
    out = []
    for e in elems:
        t, v = _type(e)
        if t == "NULL":
            out.append(None)
        elif t != "M":
            raise Unspecified("an element of %s is a %s, not an M" % (name, t))
        out.append(v)
    return out


def boolean(av):
    """BOOL, N "1"/"0" or S "true"/"false" as a bool; None for NULL."""
    t, v = _type(av)
    if t == "BOOL":
        return bool(v)
    if t == "N":
        return v not in ("0", "0.0")
    if t == "S" and v.lower() in ("true", "false"):
        return v.lower() == "true"
    if t == "NULL":
        return None
    raise Unspecified("a %s where a boolean is expected" % t)


# -- persons: the contract of the first milestone ----------------------------

PERSON_STRINGS = [  # (ES field, DynamoDB attribute)
    ("title", "title"),
    ("preferredTitle", "preferredTitle"),
    ("preferredFirstname", "preferredFirstName"),
    ("preferredMiddleName", "preferredMiddleName"),
    ("preferredSurname", "preferredSurname"),
    ("firstname", "firstName"),
    ("middleName", "middleName"),
    ("surname", "surname"),
    ("dateOfBirth", "dateOfBirth"),
    ("placeOfBirth", "placeOfBirth"),
]
PERSON_TENURE_FIELDS = ["id", "paymentReference", "type", "startDate", "endDate",
                        "assetFullAddress", "uprn", "propertyReference", "assetId"]


def persons(item):
    doc = {"id": item["id"]["S"]}
    for es_name, ddb_name in PERSON_STRINGS:
        doc[es_name] = top_string(item, ddb_name)
    tenures_ = _list_of_maps(item, "tenures")
    doc["tenures"] = None if tenures_ is None else [
        None if t is None else {f: nested_string(t, f) for f in PERSON_TENURE_FIELDS}
        for t in tenures_]
    doc["personTypes"] = _string_list(item, "personTypes")
    return doc


def _string_list(item, name):
    if name not in item:
        return None
    t, v = _type(item[name])
    if t == "NULL":
        return None
    if t in ("SS", "NS"):
        return list(v)
    if t == "L":
        out = []
        for e in v:
            et, ev = _type(e)
            if et not in ("S", "N"):
                raise Unspecified("an element of %s is a %s, not an S or N" % (name, et))
            out.append(ev)
        return out
    raise Unspecified("%s is a %s, not an L or SS" % (name, t))


# -- tenures (provisional) -----------------------------------------------------

_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})"
                   r"(?:T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})?)?$")


def parse_date(text):
    """A UTC datetime from an ISO 8601 date as the .NET writers store it
    ("2023-03-24", "...T00:00:00Z", "...T00:00:00.0000000Z", an optional
    "+01:00" offset; no offset means UTC), or None when it is not one."""
    m = _DATE.match(text or "")
    if not m:
        return None
    y, mo, d, hh, mi, ss, frac, tz = m.groups()
    try:
        dt = datetime.datetime(int(y), int(mo), int(d), int(hh or 0), int(mi or 0),
                               int(ss or 0), int((frac or "0")[:6].ljust(6, "0")),
                               tzinfo=datetime.timezone.utc)
    except ValueError:  # 2023-02-30, hour 25...
        return None
    if tz and tz != "Z":
        sign = 1 if tz[0] == "+" else -1
        dt -= sign * datetime.timedelta(hours=int(tz[1:3]), minutes=int(tz[4:6]))
    return dt


def tenure_is_active(end_text, now=None):
    """True if the end date is null/missing/empty/not a date, falls on
    1900-01-01 (UTC; the APIs' "no end" placeholder), or is not before now."""
    end = parse_date(end_text) if isinstance(end_text, str) else None
    if end is None:
        return True
    if end.date() == datetime.date(1900, 1, 1):
        return True
    now = now or datetime.datetime.now(datetime.timezone.utc)
    return end >= now


def tenures(item, now=None):
    doc = {"id": item["id"]["S"]}
    for f in ("paymentReference", "startOfTenureDate", "endOfTenureDate"):
        doc[f] = top_string(item, f)
    members = _list_of_maps(item, "householdMembers")
    doc["householdMembers"] = None if members is None else [
        None if m is None else
        {"id": nested_string(m, "id"), "type": nested_string(m, "type"),
         "fullName": nested_string(m, "fullName"),
         "isResponsible": boolean(m["isResponsible"]) if "isResponsible" in m else None}
        for m in members]
    asset = nested_map(item, "tenuredAsset")
    doc["tenuredAsset"] = None if asset is None else {
        f: nested_string(asset, f) for f in ("id", "type", "fullAddress", "uprn")}
    ttype = nested_map(item, "tenureType")
    doc["tenureType"] = None if ttype is None else {
        f: nested_string(ttype, f) for f in ("code", "description")}
    end = item.get("endOfTenureDate")
    doc["isActive"] = tenure_is_active(scalar(end) if end else None, now)
    return doc


# -- assets (provisional) ------------------------------------------------------

ASSET_ADDRESS_FIELDS = ["uprn", "addressLine1", "addressLine2", "addressLine3", "addressLine4",
                        "postCode", "postPreamble"]
ASSET_TENURE_FIELDS = ["id", "paymentReference", "type", "startOfTenureDate", "endOfTenureDate"]


def assets(item):
    # assetType has no "" default (the old indexer read it unguarded): missing is null.
    doc = {"id": item["id"]["S"], "assetId": top_string(item, "assetId"),
           "assetType": nested_string(item, "assetType")}
    addr = nested_map(item, "assetAddress")
    doc["assetAddress"] = None if addr is None else {
        f: nested_string(addr, f, missing="") for f in ASSET_ADDRESS_FIELDS}
    ten = nested_map(item, "tenure")
    doc["tenure"] = None if ten is None else {
        f: nested_string(ten, f, missing="") for f in ASSET_TENURE_FIELDS}
    doc["isCautionaryAlerted"] = False
    return doc


BY_TABLE = {"Persons": persons, "TenureInformation": tenures, "Assets": assets}
