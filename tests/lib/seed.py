"""Deterministic generators of realistic Hackney items in DynamoDB JSON.

DESIGN
persons(n, seed), tenures(n, seed), assets(n, seed) return lists of items
typed the way the .NET writers store them (shared reference
hackney/dynamodb-shapes.md): converter dates "2023-03-24T00:00:00.0000000Z" at
top level, JSON dates ("...T00:00:00Z" or without Z) inside M/L, enum lists as
L of S, NULL where the converter writes null, absent attributes for plain
strings that were never set, N for ints, Assets.isActive as N "1"/"0", nested
L of M with null members kept as NULL (ObjectListConverter) and M with null
members omitted (ObjectConverter).

The same (n, seed) always gives the same items: every choice comes from one
random.Random(seed), and ids are UUIDs built from it. A fixed share of items
(every 25th, starting at index 3) is an "awkward" variant, cycling through
AWKWARD_* so that 1,000 items hold each variant several times: a title that is
a number, names that are NULL, M or L, unicode with quotes, backslashes,
control characters and emoji, empty strings, personTypes as SS, and so on.
Items are padded or trimmed to roughly 0.5-3 KB (DynamoDB item size).
"""

import datetime
import random
import uuid

# -- DynamoDB JSON builders ------------------------------------------------


def S(v):
    return {"S": v}


def N(v):
    return {"N": str(v)}


def BOOL(v):
    return {"BOOL": bool(v)}


def M(d):
    return {"M": d}


def L(xs):
    return {"L": list(xs)}


NULL = {"NULL": True}


def item_size(item):
    """Approximate DynamoDB item size in bytes (names + values, UTF-8)."""
    return sum(len(k.encode("utf-8")) + _value_size(v) for k, v in item.items())


def _value_size(av):
    (t, v), = av.items()
    if t == "S":
        return len(v.encode("utf-8"))
    if t == "N":
        digits = len(v.lstrip("-").replace(".", "").lstrip("0")) or 1
        return (digits + 1) // 2 + 1
    if t in ("BOOL", "NULL"):
        return 1
    if t == "SS":
        return sum(len(s.encode("utf-8")) for s in v)
    if t == "L":
        return 3 + sum(1 + _value_size(x) for x in v)
    if t == "M":
        return 3 + sum(1 + len(k.encode("utf-8")) + _value_size(x) for k, x in v.items())
    return len(str(v))


# -- vocabulary --------------------------------------------------------------

TITLES = ["Dr", "Master", "Miss", "Mr", "Mrs", "Ms", "Mx", "Other", "Rabbi", "Reverend"]
PERSON_TYPES = ["Tenant", "HouseholdMember", "Leaseholder", "Freeholder", "Occupant",
                "HousingOfficer", "HousingAreaManager"]
FIRST = ["Maureen", "Laura", "Caroline", "Iain", "Mohammed", "Aisha", "Olamide", "Chloe",
         "Daniel", "Priya", "Kwame", "Fatima", "Tomasz", "Yusuf", "Grace", "Oliver", "Amelia",
         "Hassan", "Sophie", "Emre", "Chidi", "Agnieszka", "Rosa", "Jamal", "Ellie", "Nadia",
         "George", "Hannah", "Kofi", "Leila", "Max", "Ruth", "Stuart", "Richard", "Zainab"]
LAST = ["Hart", "Haynes", "Fraser", "White", "Okafor", "Begum", "Kowalski", "Yilmaz", "Smith",
        "Patel", "Mensah", "Ahmed", "Jones", "Williams", "Brown", "Taylor", "Nowak", "Adeyemi",
        "Hussain", "Clarke", "Campbell", "Osei", "Demir", "Khan", "Walker", "Evans", "Murphy"]
UNICODE_FIRST = ["Zoë", "Siobhán", "Łukasz", "Nguyễn", "Ağa", "Renée", "José", "Søren",
                 "Даниил", "李", "محمد", "Ørjan"]
PLACES = ["London", "Hackney", "Lagos", "Dhaka", "Warsaw", "Istanbul", "Accra", "Kingston",
          "Mogadishu", "Karachi", "Glasgow", "Cork"]
STREETS = ["Turnbull Neck", "Mare Street", "Amhurst Road", "Dalston Lane", "Kingsland Road",
           "Well Street", "Morning Lane", "Homerton High Street", "Clapton Square",
           "Chatsworth Road", "Lower Clapton Road", "Stoke Newington Church Street"]
TENURE_TYPES = [("SEC", "Secure"), ("INT", "Introductory"), ("LEA", "Leasehold (RTB)"),
                ("TEM", "Temp Hostel Lse"), ("FRS", "Freehold"), ("NON", "Non-Secure"),
                ("SPS", "Shared Owners"), ("TLA", "Temp Annex")]
AGREEMENT_TYPES = [("M", "Master Account"), ("C", "Cash"), ("S", "Standard")]
ASSET_TYPES = ["Dwelling", "Block", "Concierge", "LettableNonDwelling", "MediumRiseBlock",
               "TravellerSite", "BoilerHouse", "NewBuild", "Property", "NA"]
TENURED_ASSET_TYPES = ["Block", "Concierge", "Dwelling", "LettableNonDwelling",
                       "MediumRiseBlock", "NA", "TravellerSite"]
RENT_GROUPS = ["GPS", "HGF", "HRA", "LMW", "LSC", "RSL", "TAG", "TAH", "TRA"]
REASONS = ["Moved from temporary accommodation", "Joined household after marriage",
           "Record created from legacy housing system import",
           "Details confirmed at tenancy audit visit",
           "Added by housing officer following succession request",
           "Contact details updated after annual review"]

AWKWARD_PERSONS = ["title_number", "first_null", "surname_map", "middle_list", "unicode",
                   "empty_strings", "person_types_ss", "tenures_empty", "tenures_null",
                   "tenure_members_sparse", "big_number", "minimal", "large", "person_types_empty",
                   "tenure_member_number", "tenure_member_map", "preferred_all_set",
                   "person_types_null", "title_missing_everything_null"]
AWKWARD_TENURES = ["members_missing", "member_bool_variants", "tenured_asset_null",
                   "tenure_type_missing", "payment_ref_missing", "end_unparseable",
                   "end_empty", "end_1900", "end_future", "end_json_format", "unicode_names",
                   "members_empty", "minimal", "end_past_nested_nulls"]
AWKWARD_ASSETS = ["address_null", "address_sparse", "tenure_null", "tenure_missing",
                  "tenure_id_only", "asset_id_missing", "asset_type_missing", "unicode_address",
                  "is_active_bool", "minimal", "address_member_null"]


def _awkward(i, kinds):
    """The awkward variant for item i, or None for an ordinary item."""
    if i % 25 != 3:
        return None
    return kinds[(i // 25) % len(kinds)]


class _Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)

    def uuid(self):
        return str(uuid.UUID(int=self.r.getrandbits(128), version=4))

    def chance(self, p):
        return self.r.random() < p

    def pick(self, xs):
        return self.r.choice(xs)

    def digits(self, n):
        return str(self.r.randint(10 ** (n - 1), 10 ** n - 1))

    def date(self, y0, y1):
        d0 = datetime.date(y0, 1, 1).toordinal()
        d1 = datetime.date(y1, 12, 31).toordinal()
        return datetime.date.fromordinal(self.r.randint(d0, d1))

    @staticmethod
    def conv(d):
        """Top-level converter format (DynamoDbDateTimeConverter)."""
        return d.strftime("%Y-%m-%dT00:00:00.0000000Z")

    def json_date(self, d):
        """Nested System.Text.Json format: with or without the Z."""
        return d.strftime("%Y-%m-%dT00:00:00") + ("Z" if self.chance(0.8) else "")

    def postcode(self):
        r = self.r
        return "E%d %d%s%s" % (r.randint(1, 20), r.randint(0, 9),
                               r.choice("ABDEFGHJLNPQRSTUWXYZ"), r.choice("ABDEFGHJLNPQRSTUWXYZ"))

    def address(self):
        flat = "Flat %s " % self.r.choice("ABCDEFGHJKLMNPQ") if self.chance(0.6) else ""
        line1 = "%s%d %s" % (flat, self.r.randint(1, 240), self.pick(STREETS))
        return line1, self.postcode()

    def full_name(self):
        return "%s %s %s" % (self.pick(TITLES), self.pick(FIRST), self.pick(LAST))

    def opt_string(self, value, p_empty=0.5, p_missing=0.2):
        """S value / S "" / absent (None) for a plain string property."""
        x = self.r.random()
        if x < p_missing:
            return None
        if x < p_missing + p_empty:
            return S("")
        return S(value)


def _put(item, name, av):
    if av is not None:
        item[name] = av


def _pad(g, item, lo=520, hi=3100, trim_list=None):
    """Keep ordinary items within roughly 0.5-3 KB."""
    while trim_list and item_size(item) > hi and item.get(trim_list, {}).get("L"):
        item[trim_list]["L"].pop()
    while item_size(item) < lo:
        prev = item["reason"]["S"] + " " if "reason" in item else ""
        item["reason"] = S(prev + g.pick(REASONS) + ".")


# -- Persons -----------------------------------------------------------------


def _person_tenure(g):
    line1, pc = g.address()
    uprn = g.digits(12)
    start = g.date(1985, 2024)
    end = NULL
    if g.chance(0.3):
        end = S(g.json_date(start + datetime.timedelta(days=g.r.randint(30, 4000))))
    t = {
        "assetFullAddress": S("%s %s" % (line1, pc)),
        "assetId": S(g.uuid()),
        "startDate": S(g.json_date(start)),
        "endDate": end,
        "id": S(g.uuid()),
        "type": S(g.pick(TENURE_TYPES)[1]),
        "uprn": S(uprn),
        "paymentReference": S(g.digits(9)),
        "propertyReference": S(g.digits(8)) if g.chance(0.9) else NULL,
    }
    if g.chance(0.05):  # a member written by an older model: absent
        del t[g.pick(sorted(t))]
    return M(t)


def _person(g, i):
    kind = _awkward(i, AWKWARD_PERSONS)
    first = g.pick(FIRST) + (" " + g.pick(FIRST) if g.chance(0.3) else "")
    item = {"id": S(g.uuid())}
    x = g.r.random()
    _put(item, "title", S(g.pick(TITLES)) if x < 0.85 else (NULL if x < 0.95 else None))
    x = g.r.random()
    _put(item, "preferredTitle", NULL if x < 0.6 else (S(g.pick(TITLES)) if x < 0.9 else None))
    _put(item, "preferredFirstName", g.opt_string(g.pick(FIRST), 0.6, 0.2))
    _put(item, "preferredMiddleName", g.opt_string(g.pick(FIRST), 0.7, 0.2))
    _put(item, "preferredSurname", g.opt_string(g.pick(LAST), 0.6, 0.2))
    _put(item, "firstName", S(first) if g.chance(0.98) else None)
    _put(item, "middleName", g.opt_string(g.pick(FIRST), 0.5, 0.2))
    _put(item, "surname", S(g.pick(LAST)))
    _put(item, "placeOfBirth", g.opt_string(g.pick(PLACES), 0.5, 0.2))
    x = g.r.random()
    _put(item, "dateOfBirth", S(g.conv(g.date(1920, 2015))) if x < 0.85 else
         (NULL if x < 0.95 else None))
    x = g.r.random()
    if x < 0.85:
        types = ["Tenant"] if g.chance(0.6) else g.r.sample(PERSON_TYPES, g.r.randint(1, 3))
        item["personTypes"] = L(S(t) for t in types)
    elif x < 0.95:
        item["personTypes"] = NULL
    x = g.r.random()
    if x < 0.9:
        count = g.r.choices([0, 1, 2, 3, 4, 5, 6], [5, 45, 25, 12, 7, 4, 2])[0]
        item["tenures"] = L(_person_tenure(g) for _ in range(count))
    elif x < 0.95:
        item["tenures"] = NULL
    item["versionNumber"] = N(g.r.randint(0, 40))
    item["personRef"] = N(g.r.randint(0, 9999999) if g.chance(0.7) else 0)
    item["lastModified"] = S(g.conv(g.date(2019, 2024)).replace("T00:00:00", "T%02d:%02d:%02d"
                             % (g.r.randint(0, 23), g.r.randint(0, 59), g.r.randint(0, 59))))
    item["dateOfDeath"] = NULL if g.chance(0.97) else S(g.conv(g.date(2000, 2024)))
    if g.chance(0.3):
        item["reason"] = S(g.pick(REASONS))
    _pad(g, item, trim_list="tenures")
    if kind:
        _awkward_person(g, item, kind)
    return item


def _awkward_person(g, item, kind):
    if kind == "title_number":
        item["title"] = N(g.r.randint(1, 99))
    elif kind == "first_null":
        item["firstName"] = NULL
    elif kind == "surname_map":
        item["surname"] = M({"value": S(g.pick(LAST)), "source": S("legacy")})
    elif kind == "middle_list":
        item["middleName"] = L([S(g.pick(FIRST))])
    elif kind == "unicode":
        item["firstName"] = S('%s "Zee" O\'Brien' % g.pick(UNICODE_FIRST))
        item["surname"] = S("Back\\slash-Ünal 😀")
        item["preferredFirstName"] = S("🏠 Sunny \t tab")
        item["placeOfBirth"] = S("São Paulo\nline two \u2028 \u00e9\u0301 \x01")
        item["middleName"] = S("</script><b>&amp;</b>")
    elif kind == "empty_strings":
        for k in ("preferredFirstName", "preferredMiddleName", "preferredSurname", "firstName",
                  "middleName", "surname", "placeOfBirth"):
            item[k] = S("")
    elif kind == "person_types_ss":
        item["personTypes"] = {"SS": ["HouseholdMember", "Tenant"]}
    elif kind == "tenures_empty":
        item["tenures"] = L([])
    elif kind == "tenures_null":
        item["tenures"] = NULL
    elif kind == "tenure_members_sparse":
        t = _person_tenure(g)["M"]
        for k in ("uprn", "propertyReference", "endDate"):
            t.pop(k, None)
        t["assetFullAddress"] = NULL
        t["type"] = NULL
        item["tenures"] = L([M(t), _person_tenure(g)])
    elif kind == "big_number":
        item["preferredSurname"] = N("12345678901234567890123456789012345678")
        item["placeOfBirth"] = N("-0.25")
    elif kind == "minimal":
        for k in list(item):
            if k != "id":
                del item[k]
    elif kind == "large":
        item["tenures"] = L(_person_tenure(g) for _ in range(7))
        item["reason"] = S(" ".join(g.pick(REASONS) for _ in range(8)))
    elif kind == "person_types_empty":
        item["personTypes"] = L([])
    elif kind == "tenure_member_number":
        t = _person_tenure(g)["M"]
        t["uprn"] = N(g.digits(12))
        t["paymentReference"] = N(g.digits(9))
        item["tenures"] = L([M(t)])
    elif kind == "tenure_member_map":
        t = _person_tenure(g)["M"]
        t["type"] = M({"code": S("SEC"), "description": S("Secure")})
        t["endDate"] = L([])
        item["tenures"] = L([M(t)])
    elif kind == "preferred_all_set":
        item["preferredTitle"] = S(g.pick(TITLES))
        item["preferredFirstName"] = S(g.pick(FIRST))
        item["preferredMiddleName"] = S(g.pick(FIRST))
        item["preferredSurname"] = S(g.pick(LAST))
        item["personTypes"] = L(S(t) for t in PERSON_TYPES)
    elif kind == "person_types_null":
        item["personTypes"] = NULL
        item.pop("tenures", None)
    elif kind == "title_missing_everything_null":
        for k in ("title", "preferredTitle", "dateOfBirth", "personTypes", "tenures"):
            item[k] = NULL
        item.pop("surname")
        item.pop("firstName", None)


def persons(n, seed=1):
    """n Persons items (list of dicts in DynamoDB JSON), same for the same seed."""
    g = _Gen("persons:%s" % (seed,))
    return [_person(g, i) for i in range(n)]


# -- TenureInformation -----------------------------------------------------


def _household_member(g, responsible):
    d = g.date(1930, 2020)
    return M({
        "id": S(g.uuid()),
        "type": S("Person" if g.chance(0.95) else "Organisation"),
        "fullName": S(g.full_name()),
        "isResponsible": BOOL(responsible),
        "dateOfBirth": S(g.json_date(d)),
        "personTenureType": S(g.pick(["Tenant", "Leaseholder", "Freeholder", "HouseholdMember",
                                      "Occupant"])),
    })


def _end_of_tenure(g, start):
    x = g.r.random()
    if x < 0.5:
        return NULL
    if x < 0.8:  # ended in the past (start is at most 2015: far from "now")
        return S(g.conv(start + datetime.timedelta(days=g.r.randint(30, 1800))))
    if x < 0.95:  # ends well in the future
        return S(g.conv(g.date(2040, 2060)))
    return S("1900-01-01T00:00:00.0000000Z")


def _tenure(g, i):
    kind = _awkward(i, AWKWARD_TENURES)
    start = g.date(1970, 2015)
    code, desc = g.pick(TENURE_TYPES)
    line1, pc = g.address()
    members = [_household_member(g, j == 0) for j in range(g.r.choices([1, 2, 3, 4, 5, 6],
                                                                         [35, 25, 18, 12, 6, 4])[0])]
    item = {
        "id": S(g.uuid()),
        "paymentReference": S(g.digits(9)),
        "startOfTenureDate": S(g.conv(start)),
        "endOfTenureDate": _end_of_tenure(g, start),
        "tenureType": M({"code": S(code), "description": S(desc)}) if g.chance(0.95) else NULL,
        "tenuredAsset": M({
            "id": S(g.uuid()), "type": S(g.pick(TENURED_ASSET_TYPES)),
            "fullAddress": S("%s %s" % (line1, pc)), "uprn": S(g.digits(12)),
            "propertyReference": S(g.digits(8)),
            "isTemporaryAccommodation": BOOL(g.chance(0.1)),
        }) if g.chance(0.95) else NULL,
        "householdMembers": L(members),
        "notices": L([M({"type": S("NoticeToQuit"), "servedDate": S(g.json_date(start)),
                         "expiryDate": S(g.json_date(start)), "effectiveDate": S(g.json_date(start)),
                         "endDate": NULL})] if g.chance(0.1) else []),
        "legacyReferences": L([M({"name": S("uh_tag_ref"), "value": S(g.digits(9) + "/01")}),
                               M({"name": S("u_saff_tenancy"), "value": S(g.digits(6))})]
                              [:g.r.randint(1, 2)]),
        "isTenanted": BOOL(g.chance(0.7)) if g.chance(0.6) else NULL,
        "isMutualExchange": NULL if g.chance(0.8) else BOOL(False),
        "informHousingBenefitsForChanges": NULL if g.chance(0.8) else BOOL(g.chance(0.5)),
        "isSublet": NULL if g.chance(0.8) else BOOL(False),
        "subletEndDate": NULL, "successionDate": NULL, "evictionDate": NULL,
        "potentialEndDate": NULL,
        "charges": NULL if g.chance(0.6) else M({
            "rent": N("%d.%02d" % (g.r.randint(80, 400), g.r.randint(1, 99))),
            "currentBalance": N("%d.%02d" % (g.r.randint(-500, 900), g.r.randint(1, 99))),
            "serviceCharge": N(g.r.randint(0, 40)), "otherCharges": N(0),
            "billingFrequency": S("Weekly"), "isSuspended": BOOL(False)}),
        "terminated": M({"isTerminated": BOOL(False), "reasonForTermination": S("")}),
        "agreementType": M(dict(zip(("code", "description"),
                                    map(S, g.pick(AGREEMENT_TYPES))))),
        "numberOfAdultsInProperty": N(g.r.randint(0, 4)),
        "numberOfChildrenInProperty": N(g.r.randint(0, 4)),
        "hasOffsiteStorage": NULL,
        "tempAccommodationInfo": NULL,
        "furtherAccountInformation": NULL,
        "versionNumber": N(g.r.randint(0, 12)),
    }
    if g.chance(0.3):
        item["tenureSource"] = S(g.pick(["UH", "MMH", "Manual"]))
    _pad(g, item, trim_list="householdMembers")
    if kind:
        _awkward_tenure(g, item, kind)
    return item


def _awkward_tenure(g, item, kind):
    if kind == "members_missing":
        del item["householdMembers"]
    elif kind == "member_bool_variants":
        ms = [_household_member(g, False)["M"] for _ in range(5)]
        ms[0]["isResponsible"] = NULL
        ms[1]["isResponsible"] = N(1)
        ms[2]["isResponsible"] = S("false")
        del ms[3]["isResponsible"]
        ms[4]["fullName"] = NULL
        del ms[4]["type"]
        item["householdMembers"] = L(M(m) for m in ms)
    elif kind == "tenured_asset_null":
        item["tenuredAsset"] = NULL
    elif kind == "tenure_type_missing":
        del item["tenureType"]
        item["tenuredAsset"] = M({"id": S(g.uuid()), "type": S("Dwelling")})
    elif kind == "payment_ref_missing":
        del item["paymentReference"]
        del item["startOfTenureDate"]
    elif kind == "end_unparseable":
        item["endOfTenureDate"] = S("not a date")
    elif kind == "end_empty":
        item["endOfTenureDate"] = S("")
    elif kind == "end_1900":
        item["endOfTenureDate"] = S("1900-01-01T00:00:00.0000000Z")
    elif kind == "end_future":
        item["endOfTenureDate"] = S("2099-12-31T00:00:00.0000000Z")
    elif kind == "end_json_format":
        item["endOfTenureDate"] = S("2011-05-06T00:00:00Z")
    elif kind == "unicode_names":
        m = item["householdMembers"]["L"][0]["M"]
        m["fullName"] = S('Ms Zoë "Zee" O\'Brien \\ 😀')
    elif kind == "members_empty":
        item["householdMembers"] = L([])
    elif kind == "minimal":
        for k in list(item):
            if k != "id":
                del item[k]
    elif kind == "end_past_nested_nulls":
        item["endOfTenureDate"] = S("2001-01-01T00:00:00.0000000Z")
        item["tenureType"] = M({"code": S("SEC")})
        item["tenuredAsset"] = M({"id": S(g.uuid()), "uprn": NULL, "fullAddress": S("")})


def tenures(n, seed=1):
    """n TenureInformation items in DynamoDB JSON."""
    g = _Gen("tenures:%s" % (seed,))
    return [_tenure(g, i) for i in range(n)]


# -- Assets ------------------------------------------------------------------


def _asset(g, i):
    kind = _awkward(i, AWKWARD_ASSETS)
    line1, pc = g.address()
    parent = g.uuid()
    item = {
        "id": S(g.uuid()),
        "assetId": S(g.digits(9)),
        "areaId": S(g.uuid()),
        "patchId": S(g.uuid()),
        "assetType": S(g.pick(ASSET_TYPES)),
        "rootAsset": S("ROOT"),
        "parentAssetIds": S("ROOT" if g.chance(0.3) else "ROOT#" + parent),
        "isActive": N(1 if g.chance(0.9) else 0),
        "boilerHouseId": S(""),
        "assetAddress": M({
            "uprn": S(g.digits(12)), "addressLine1": S(line1),
            "addressLine2": S("Hackney" if g.chance(0.7) else ""),
            "addressLine3": S("London" if g.chance(0.3) else ""), "addressLine4": S(""),
            "postCode": S(pc), "postPreamble": S(""),
        }),
        "assetLocation": M({"floorNo": S(str(g.r.randint(0, 20)) if g.chance(0.5) else ""),
                            "totalBlockFloors": N(g.r.randint(0, 20)),
                            "parentAssets": L([M({"type": S("Block"), "id": S(parent),
                                                  "name": S(g.pick(STREETS) + " Estate")})]
                                              if g.chance(0.6) else [])}),
        "assetManagement": NULL if g.chance(0.4) else M({
            "agent": S("Hackney Homes"), "areaOfficeName": S(g.pick(["North", "South", "Central"])),
            "isCouncilProperty": BOOL(True), "managingOrganisation": S("London Borough of Hackney"),
            "owner": S("LBH"), "isTMOManaged": BOOL(g.chance(0.1)),
            "propertyOccupiedStatus": S("Occupied"),
            "isNoRepairsMaintenance": BOOL(False), "isTemporaryAccomodation": BOOL(g.chance(0.1)),
        }),
        "assetCharacteristics": NULL if g.chance(0.2) else M({
            "numberOfBedrooms": N(g.r.randint(0, 5)), "numberOfLifts": N(g.r.randint(0, 2)),
            "numberOfLivingRooms": N(g.r.randint(1, 2)),
            "yearConstructed": S(str(g.r.randint(1880, 2022))),
            "hasStairs": BOOL(g.chance(0.5)), "hasRampAccess": BOOL(g.chance(0.3)),
            "hasPrivateBathroom": BOOL(True), "numberOfBathrooms": N(1),
            "windowType": S(g.pick(["DBL", "SGL", "UPVC"])), "isStepFree": BOOL(g.chance(0.3)),
        }),
        "versionNumber": N(g.r.randint(0, 9)),
    }
    if g.chance(0.5):
        item["rentGroup"] = S(g.pick(RENT_GROUPS))
    x = g.r.random()
    if x < 0.6:
        start = g.date(1980, 2023)
        t = {"id": S(g.uuid()), "paymentReference": S(g.digits(9)),
             "type": S(g.pick(TENURE_TYPES)[1]), "startOfTenureDate": S(g.json_date(start))}
        if g.chance(0.3):
            t["endOfTenureDate"] = S(g.json_date(start + datetime.timedelta(days=900)))
        item["tenure"] = M(t)
    elif x < 0.9:
        item["tenure"] = NULL
    _pad(g, item)
    if kind:
        _awkward_asset(g, item, kind)
    return item


def _awkward_asset(g, item, kind):
    if kind == "address_null":
        item["assetAddress"] = NULL
    elif kind == "address_sparse":
        item["assetAddress"] = M({"addressLine1": S("1 Mare Street"), "postCode": S("E8 1HY")})
    elif kind == "tenure_null":
        item["tenure"] = NULL
    elif kind == "tenure_missing":
        item.pop("tenure", None)
    elif kind == "tenure_id_only":
        item["tenure"] = M({"id": S(g.uuid())})
    elif kind == "asset_id_missing":
        del item["assetId"]
    elif kind == "asset_type_missing":
        del item["assetType"]
    elif kind == "unicode_address":
        item["assetAddress"]["M"]["addressLine1"] = S('Flat "Ä" 3\\4 Ørjan\'s Court 🏢')
    elif kind == "is_active_bool":  # written with conversion schema V2
        item["isActive"] = BOOL(False)
    elif kind == "minimal":
        for k in list(item):
            if k != "id":
                del item[k]
    elif kind == "address_member_null":
        item["assetAddress"]["M"]["postCode"] = NULL
        item["tenure"] = M({"id": S(g.uuid()), "type": NULL, "paymentReference": S("")})


def assets(n, seed=1):
    """n Assets items in DynamoDB JSON."""
    g = _Gen("assets:%s" % (seed,))
    return [_asset(g, i) for i in range(n)]
