"""The windkraft rules (plugins/examples/WINDKRAFT.md) in Python: a port of
windkraft-rust/src/lib.rs that gives exactly the same suggestion on every input.

Pure Python without the component bindings, so that it also runs natively:
    python3 windkraft.py FILE...   prints the suggestion for each text file.

Ported to the character: only regular expressions without Unicode classes,
case-insensitivity, look-around or back-references, every repetition bounded, and
text helpers defined on explicit characters (see akte_plugin_sdk::text).
"""
import re

MAX_CHARS = 200_000
MAX_PARCELS = 64

WIND_TERMS = ["windenergie", "windkraft", "windpark", "windrad", "windräder", "windfarm"]
OTHER_LAND = ["fläche", "zuwegung", "zufahrt", "baulast", "kompensation", "ausgleich"]

TITLE_RULES = [
    (["zustellungsurkunde"], "Nachweis", "Zustellungsurkunde"),
    (["bekanntmachung"], "Schreiben", "Öffentliche Bekanntmachung"),
    (["niederschrift", "protokoll"], "Niederschrift", None),
    (["vermerk"], "Vermerk", None),
    (["typenprüfung"], "Nachweis", "Typenprüfung"),
    (["prüfbericht"], "Nachweis", "Prüfbericht"),
    (["sammeleinwendung"], "Einwendung", "Sammeleinwendung"),
    (["einwendung"], "Einwendung", None),
    (["schallimmissionsprognose", "schallgutachten", "schalltechnische"], "Gutachten", "Schallgutachten"),
    (["schattenwurf"], "Gutachten", "Schattenwurfgutachten"),
    (["turbulenz"], "Gutachten", "Turbulenzgutachten"),
    (["eiswurf", "eisabfall"], "Gutachten", "Eiswurfgutachten"),
    (["artenschutz"], "Gutachten", "Artenschutzgutachten"),
    (["baugrund"], "Gutachten", "Baugrundgutachten"),
    (["begleitplan"], "Gutachten", "Landschaftspflegerischer Begleitplan"),
    (["gutacht", "fachbeitrag", "konzept"], "Gutachten", None),
    (["lageplan"], "Plan", "Lageplan"),
    (["abstandsfläche"], "Plan", "Abstandsflächenplan"),
    (["stellungnahme"], "Stellungnahme", None),
    (["kurzbeschreibung"], "Antrag", "Kurzbeschreibung"),
]

# Evidence for a document type and the confidence it adds.
TITLE, HEAD, BODY, LETTER = 40, 35, 25, 10

NUMBER = "([0-9]{1,4}(?:[.,][0-9]{1,3}){0,2})"
FILLERS = "(?:(?:von|jeweils|je|anlage|rund|ca\\.|etwa|beträgt|damit|bleibt|mit)[ \\t]+){0,3}"


def measure(key, units):
    return re.compile(key + "[ \\t]*:?[ \\t]*" + FILLERS + NUMBER + "[ \\t]?(?:" + units + ")(?:[^0-9a-zäöüß²³/]|$)")


COUNT = re.compile(
    "(?:^|[^0-9a-zäöüß.,])(zwei|drei|vier|fünf|sechs|sieben|acht|neun|zehn|elf|zwölf|[0-9]{1,3}) "
    "(?:(?:geplanten|beantragten|neuen|weiteren) )?(?:windenergieanlagen|windkraftanlagen|wea|windräder)"
    "(?:[^0-9a-zäöüß]|$)"
)
TIMES = re.compile("(?:^|[^0-9a-zäöüß.,])([0-9]{1,3}) ?× ?[a-zäöü]")
HUB = measure("nabenh(?:ö|oe)he", "m|meter|metern")
HUB_BEFORE = re.compile("(?:^|[^0-9.,])" + NUMBER + "[ \\t]?(?:m|meter|metern) nabenh(?:ö|oe)he")
ROTOR = measure("rotordurchmesser", "m|meter|metern")
TOTAL = measure("gesamth(?:ö|oe)he", "m|meter|metern")
POWER = re.compile(
    "nennleistung[ \\t]*:?[ \\t]*" + FILLERS + NUMBER + "[ \\t]?(?:mw|megawatt)"
    "(?:[ \\t]+auf[ \\t]+" + NUMBER + "[ \\t]?(?:mw|megawatt))?(?:[^0-9a-zäöüß]|$)"
)
MODEL = re.compile(
    "(?:^|[^A-Za-zÄÖÜäöüß])(?:Anlagentyp|Typs?)[ \\t]*:?[ \\t]+"
    "([A-Z][A-Za-z]{1,30}(?: [A-Z][a-z]{1,30})? [A-Z]{1,4}-?[0-9]{1,4}(?:[-/.][0-9A-Za-z]{1,6}){0,2})"
    "(?:[^0-9A-Za-z]|$)"
)
GEMARKUNG = re.compile(
    "(?:^|[^A-Za-zÄÖÜäöüß])[Gg]emarkung[ \\t]*:?[ \\t]+([A-ZÄÖÜ][a-zäöüß]{1,40}(?:-[A-ZÄÖÜ][a-zäöüß]{1,40})?)"
)
FLUR = re.compile("(?:^|[^A-Za-zÄÖÜäöüß])[Ff]lur[ \\t]*:?[ \\t]+([0-9]{1,4})(?:[^0-9/]|$)")
PARCEL = "[0-9]{1,5}(?:/[0-9]{1,4})?(?: \\([^()]{0,20}\\))?"
PARCELS = re.compile(
    "(?:^|[^A-Za-zÄÖÜäöüß])[Ff]lurst(?:ü|ue)ck(?:e|en|s)?[ \\t]*:?[ \\t]+"
    "(" + PARCEL + "(?:(?:, | und | sowie )" + PARCEL + "){0,63})"
)
PARCEL_CELL = re.compile("^" + PARCEL + "(?:(?:, | und | sowie )" + PARCEL + "){0,63}$")
NOTE = re.compile("\\([^()]{0,20}\\)")
PARCEL_NUMBER = re.compile("[0-9]{1,5}(?:/[0-9]{1,4})?")
NAME_CELL = re.compile("^[A-ZÄÖÜ][a-zäöüß]{1,40}(?:-[A-ZÄÖÜ][a-zäöüß]{1,40})?$")
NUMBER_CELL = re.compile("^[0-9]{1,4}$")
AKTENZEICHEN = re.compile("(?:^|[^0-9A-Za-z./-])([0-9]{1,3}(?:\\.[0-9]{1,3}){0,3}-[0-9]{2,6}/[0-9]{4})(?:[^0-9]|$)")
WEA = re.compile("(?:^|[^A-Za-z])WEA(?:[^A-Za-z]|$)")

NUMBER_WORDS = ["zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht", "neun", "zehn", "elf", "zwölf"]

# --- text helpers, as akte_plugin_sdk::text ---------------------------------------------

BLANKS = " \t\n\r\x0b\x0c\u00a0\u2007\u202f"
_FOLD = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}
_FOLD.update({ord("Ä"): "ä", ord("Ö"): "ö", ord("Ü"): "ü"})
_NORMALIZE = {ord("\r"): None, 0x0B: "\n", 0x0C: "\n", 0xA0: " ", 0x2007: " ", 0x202F: " "}


def is_blank(text):
    return all(c in BLANKS for c in text)


def fold(text):
    return text.translate(_FOLD)


def normalize(text):
    return text.translate(_NORMALIZE)


def lines(text):
    out = []
    for line in text.split("\n"):
        line = line.strip(" ")
        if not all(c in " \t" for c in line):
            out.append(line)
    return out


def decimal(number):
    if "," in number:
        return number.replace(".", "").replace(",", ".")
    groups = number.split(".")[1:]
    if groups and all(len(g) == 3 for g in groups):
        return number.replace(".", "")
    return number


def most_common(items):
    best, best_n = None, 0
    for i, item in enumerate(items):
        if item in items[:i]:
            continue
        n = items[i:].count(item)
        if best is None or n > best_n:
            best, best_n = item, n
    return best


def contains_any(haystack, needles):
    return any(n in haystack for n in needles)


# --- the rules ----------------------------------------------------------------------------


def captures(regex, line, group):
    for m in regex.finditer(line):
        if m.group(group) is not None:
            yield m.start(group), m.group(group)


def suggest(akte_title, text):
    """(document_type, [(name, value)], tags, confidence) for a non-blank text."""
    text = normalize(text[:MAX_CHARS])
    folded = fold(text)
    title_says = akte_title is not None and contains_any(fold(akte_title), WIND_TERMS)
    if not (contains_any(folded, WIND_TERMS) or WEA.search(text) or title_says):
        return None, [], [], 0
    lns = lines(text)
    flns = [fold(line) for line in lns]

    fields = []
    kind = classify(lns, flns)
    if kind is not None and kind[1] is not None:
        fields.append(("unterlagenart", kind[1]))
    gemarkung, flur, parcels = location(lns, flns)
    facts = [
        ("anzahl-wea", turbine_count(flns)),
        ("anlagentyp", most_common([v for line in lns for _, v in captures(MODEL, line, 1)])),
        ("nabenhoehe-m", hub_height(flns)),
        ("rotordurchmesser-m", measure_value(ROTOR, flns)),
        ("gesamthoehe-m", measure_value(TOTAL, flns)),
        ("nennleistung-mw", power(flns)),
        ("gemarkung", gemarkung),
        ("flur", flur),
        ("flurstuecke", ", ".join(parcels) if parcels else None),
        ("aktenzeichen", aktenzeichen(lns, flns)),
    ]
    fields.extend((name, value) for name, value in facts if value is not None)

    tags = ["windkraft"]
    if "bimschg" in folded or "bundes-immissionsschutzgesetz" in folded:
        tags.append("bimschg")
    facts_found = sum(1 for name, _ in fields if name != "unterlagenart")
    evidence = kind[2] if kind is not None else 0
    confidence = min(30 + evidence + min(5 * facts_found, 25), 95)
    return (kind[0] if kind is not None else None), fields, tags, confidence


def classify(lns, flns):
    if not flns:
        return None
    title = flns[0]
    for keywords, doc_type, unterlagenart in TITLE_RULES:
        if contains_any(title, keywords):
            return doc_type, unterlagenart, TITLE
    if "antrag" in title and "genehmigung" in title:
        return "Antrag", ("Änderungsantrag" if "änderung" in title else "Genehmigungsantrag"), TITLE
    first_word = lns[0].split(" ")[0]
    folded_first = fold(first_word)
    if folded_first.endswith("bescheid") or folded_first.endswith("genehmigung"):
        return "Bescheid", first_word, TITLE

    salutation = next((i for i, line in enumerate(flns[:15]) if line.startswith("sehr geehrte")), None)
    head = flns[: salutation if salutation is not None else min(len(flns), 12)]

    def in_head(test):
        return next((i for i, line in enumerate(head) if test(line)), None)

    if in_head(lambda l: l.startswith("prüfbericht")) is not None:
        return "Nachweis", "Prüfbericht", HEAD

    def einwendung(l):
        return (
            l.startswith("einwendung")
            or l.startswith("sammeleinwendung")
            or l.startswith("betreff: einwendung")
            or "; einwendung" in l
        )

    if in_head(einwendung) is not None:
        return "Einwendung", None, HEAD
    if in_head(lambda l: l.startswith("stellungnahme")) is not None:
        return "Stellungnahme", None, HEAD
    i = in_head(lambda l: " " not in l and "\t" not in l and l.endswith("bescheid"))
    if i is not None:
        return "Bescheid", lns[i], HEAD
    if in_head(lambda l: l.startswith("lageplan")) is not None:
        return "Plan", "Lageplan", HEAD
    if in_head(lambda l: l.startswith("berechnung der abstandsflächen") or l.startswith("abstandsflächenberechnung")) is not None:
        return "Plan", "Abstandsflächenplan", HEAD
    if in_head(lambda l: "einvernehmen" in l) is not None:
        return "Stellungnahme", "Einvernehmen", HEAD

    body = flns[:25]
    raises = ["erhebe ich", "erheben wir", "wir erheben", "unterzeichnenden erheben"]
    if any("einwendung" in l and contains_any(l, raises) for l in body):
        return "Einwendung", None, BODY
    if any("wie folgt stellung" in l for l in body):
        return "Stellungnahme", None, BODY
    conditions = ["aufzunehmen", "aufgenommen", "zu übernehmen"]
    if any("in den genehmigungsbescheid" in l and contains_any(l, conditions) for l in body):
        return "Stellungnahme", None, BODY
    if any(l.startswith("sehr geehrte") for l in body):
        return "Schreiben", None, LETTER
    return None


def turbine_count(flns):
    counts = []
    for line in flns:
        for start, n in list(captures(COUNT, line, 1)) + list(captures(TIMES, line, 1)):
            before = line[:start]
            if before.endswith("als ") or before.endswith("bis "):
                continue
            value = NUMBER_WORDS.index(n) + 2 if n in NUMBER_WORDS else int(n)
            if 1 <= value <= 200:
                counts.append(value)
    n = most_common(counts)
    return None if n is None else str(n)


def hub_height(flns):
    values = []
    for line in flns:
        values.extend(decimal(v) for _, v in list(captures(HUB, line, 1)) + list(captures(HUB_BEFORE, line, 1)))
    return most_common(values)


def measure_value(regex, flns):
    return most_common([decimal(v) for line in flns for _, v in captures(regex, line, 1)])


def power(flns):
    values = []
    for line in flns:
        for m in POWER.finditer(line):
            v = m.group(2) if m.group(2) is not None else m.group(1)
            values.append(decimal(v))
    return most_common(values)


def aktenzeichen(lns, flns):
    found = []
    for line, fline in zip(lns, flns):
        for start, az in captures(AKTENZEICHEN, line, 1):
            if fline[:start].endswith("zu "):
                return az
            found.append(az)
    return most_common(found)


def add_parcels(lst, parcels):
    for m in PARCEL_NUMBER.finditer(NOTE.sub("", lst)):
        p = m.group(0)
        if len(parcels) < MAX_PARCELS and p not in parcels:
            parcels.append(p)


def location(lns, flns):
    gemarkungen, flure, parcels = [], [], []
    for i, line in enumerate(lns):
        for clause in clauses(line):
            if contains_any(fold(clause), OTHER_LAND):
                continue
            gemarkungen.extend(v for _, v in captures(GEMARKUNG, clause, 1))
            flure.extend(v for _, v in captures(FLUR, clause, 1))
            for _, lst in captures(PARCELS, clause, 1):
                add_parcels(lst, parcels)
        header = [c.strip(" ") for c in flns[i].split("\t")]
        if len(header) < 2 or contains_any(flns[i], OTHER_LAND):
            continue

        def column(names):
            return next((k for k, c in enumerate(header) if c in names), None)

        g, f, p = column(["gemarkung"]), column(["flur"]), column(["flurstück", "flurstücke"])
        if g is None and f is None and p is None:
            continue
        for row in lns[i + 1 : i + 1 + 200]:
            cells = [c.strip(" ") for c in row.split("\t")]
            if len(cells) != len(header):
                break
            if g is not None and NAME_CELL.search(cells[g]):
                gemarkungen.append(cells[g])
            if f is not None and NUMBER_CELL.search(cells[f]):
                flure.append(cells[f])
            if p is not None and PARCEL_CELL.search(cells[p]):
                add_parcels(cells[p], parcels)
    return most_common(gemarkungen), most_common(flure), parcels


def clauses(line):
    out, start, n = [], 0, len(line)
    for k, c in enumerate(line):
        nxt = line[k + 1] if k + 1 < n else None
        after = line[k + 2] if k + 2 < n else None
        if c == ";" and nxt == " ":
            out.append(line[start:k])
            start = k + 2
        elif c == "." and nxt == " " and after is not None and (("A" <= after <= "Z") or after in "ÄÖÜ"):
            out.append(line[start : k + 1])
            start = k + 2
    out.append(line[min(start, n) :])
    return out


if __name__ == "__main__":
    import sys

    for path in sys.argv[1:]:
        with open(path, encoding="utf-8") as f:
            print(path, suggest(None, f.read()))
