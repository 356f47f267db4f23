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
OTHER_LAND = ["fläche", "zuwegung", "zufahrt", "baulast", "kompensation", "ausgleich", "fundort"]
# Words that follow "Gemarkung" in a table header or a form, never the name of one.
NOT_NAMES = [
    "flur", "flurstück", "flurstücke", "flurstücken", "flurstücks", "gemarkung", "gemarkungen", "gemeinde", "anlage",
]
# The column names of a location table: Gemarkung, Flur, Flurstück.
COLUMNS = [["gemarkung"], ["flur"], ["flurstück", "flurstücke"]]
# A line that ends in one of these (folded, without a colon) goes on in the next line.
LINE_END_KEYS = [
    "gemarkung", "flur", "flurstück", "flurstücke", "flurstücken", "nabenhöhe", "rotordurchmesser",
    "gesamthöhe", "nennleistung", "typ", "typs", "anlagentyp",
]
# A line whose next-to-last word is one of these (folded, without a colon) goes on in the next
# line: the name of a type is broken there ("des Typs Aerovent\nAV-162").
TYPE_KEYS = ["typ", "typs", "anlagentyp"]
# A line that starts with one of these units goes on from a line that ends in a number.
UNITS = ["m", "meter", "metern", "mw", "megawatt"]
# "Montage-" at a line end before one of these is a word of its own.
HYPHEN_WORDS = ["und", "oder", "bis", "sowie"]

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
NAME = "[A-ZÄÖÜ][a-zäöüß]{1,40}(?:-[A-ZÄÖÜ][a-zäöüß]{1,40})?"
FILLERS = "(?:(?:von|jeweils|je|anlage|rund|ca\\.|etwa|beträgt|damit|bleibt|mit)[ \\t]+){0,3}"


def measure(key, units):
    return re.compile(key + "[ \\t]*:?[ \\t]*" + FILLERS + NUMBER + "[ \\t]?(?:" + units + ")(?:[^0-9a-zäöüß²³/]|$)")


COUNT = re.compile(
    "(?:^|[^0-9a-zäöüß.,])(zwei|drei|vier|fünf|sechs|sieben|acht|neun|zehn|elf|zwölf|[0-9]{1,3}) "
    "(?:(?:geplanten|beantragten|neuen|weiteren) )?(?:windenergieanlagen|windkraftanlagen|wea|windräder)"
    "(?:$|[^0-9a-zäöüß ]| $| [^0-9])"
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
GEMARKUNG = re.compile("(?:^|[^A-Za-zÄÖÜäöüß])[Gg]emarkung[ \\t]*:?[ \\t]+(" + NAME + ")")
FLUR = re.compile("(?:^|[^A-Za-zÄÖÜäöüß])[Ff]lur[ \\t]*:?[ \\t]+([0-9]{1,4})(?:[^0-9/]|$)")
PARCEL = "[0-9]{1,5}(?:/[0-9]{1,4})?(?: \\([^()]{0,20}\\))?"
PARCELS = re.compile(
    "(?:^|[^A-Za-zÄÖÜäöüß])[Ff]lurst(?:ü|ue)ck(?:e|en|s)?[ \\t]*:?[ \\t]+"
    "(" + PARCEL + "(?:(?:, | und | sowie )" + PARCEL + "){0,63})"
)
PARCEL_CELL = re.compile("^" + PARCEL + "(?:(?:, | und | sowie )" + PARCEL + "){0,63}$")
NOTE = re.compile("\\([^()]{0,20}\\)")
PARCEL_NUMBER = re.compile("[0-9]{1,5}(?:/[0-9]{1,4})?")
NAME_CELL = re.compile("^" + NAME + "$")
NUMBER_CELL = re.compile("^[0-9]{1,4}$")
# The cells of a row of a table without tabs, by column: Gemarkung, Flur, Flurstück.
ROW_CELLS = ["(" + NAME + ")", "([0-9]{1,4})", "(" + PARCEL + "(?:(?:, | und | sowie )" + PARCEL + "){0,63})"]
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
    found = passages(lns, flns)
    ps = [p for p, _ in found]
    fps = [fold(p) for p in ps]

    fields = []
    kind = classify(lns, flns)
    if kind is not None and kind[1] is not None:
        fields.append(("unterlagenart", kind[1]))
    gemarkung, flur, parcels = location(found)
    facts = [
        ("anzahl-wea", turbine_count(fps)),
        ("anlagentyp", most_common([v for p in ps for _, v in captures(MODEL, p, 1)])),
        ("nabenhoehe-m", hub_height(fps)),
        ("rotordurchmesser-m", measure_value(ROTOR, fps)),
        ("gesamthoehe-m", measure_value(TOTAL, fps)),
        ("nennleistung-mw", power(fps)),
        ("gemarkung", gemarkung),
        ("flur", flur),
        ("flurstuecke", ", ".join(parcels) if parcels else None),
        ("aktenzeichen", aktenzeichen(ps, fps)),
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


def turbine_count(fps):
    counts = []
    for p in fps:
        for start, n in list(captures(COUNT, p, 1)) + list(captures(TIMES, p, 1)):
            if p.endswith("als ", 0, start) or p.endswith("bis ", 0, start):
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


def aktenzeichen(ps, fps):
    found = []
    for p, fp in zip(ps, fps):
        for start, az in captures(AKTENZEICHEN, p, 1):
            if fp.endswith("zu ", 0, start):
                return az
            found.append(az)
    return most_common(found)


def add_parcels(lst, parcels):
    for m in PARCEL_NUMBER.finditer(NOTE.sub("", lst)):
        p = m.group(0)
        if len(parcels) < MAX_PARCELS and p not in parcels:
            parcels.append(p)


def location(found):
    gemarkungen, flure, parcels = [], [], []
    for text, rows in found:
        if rows is not None:
            for g, f, p in rows:
                if g is not None:
                    gemarkungen.append(g)
                if f is not None:
                    flure.append(f)
                if p is not None:
                    add_parcels(p, parcels)
            continue
        for clause in clauses(text):
            if contains_any(fold(clause), OTHER_LAND):
                continue
            gemarkungen.extend(v for _, v in captures(GEMARKUNG, clause, 1) if fold(v) not in NOT_NAMES)
            flure.extend(v for _, v in captures(FLUR, clause, 1))
            for _, lst in captures(PARCELS, clause, 1):
                add_parcels(lst, parcels)
    return most_common(gemarkungen), most_common(flure), parcels


# --- passages: tables, and sentences across line breaks ------------------------------------

LOWER = "abcdefghijklmnopqrstuvwxyzäöüß"
UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÜ"
SPACE, GLUE, UNHYPHENATE = 1, 2, 3


def is_lower(c):
    return len(c) == 1 and c in LOWER


def is_letter(c):
    return len(c) == 1 and (c in LOWER or c in UPPER)


def words(line):
    return [w for w in line.split(" ") if w != ""]


def trim_end(word, chars):
    while word != "" and word[-1] in chars:
        word = word[:-1]
    return word


def passages(lns, flns):
    """The passages in order as (text, rows): a location table's lines one by one (rows: the
    values of its rows for the header, [] for the rows), and the other lines joined into
    sentences where a line goes on in the next (rows: None)."""
    tables = {}
    i = 0
    while i < len(lns):
        table = read_table(lns, flns, i)
        if table is None:
            i += 1
        else:
            tables[i] = table
            i = table[0]
    out = []
    i = 0
    while i < len(lns):
        if i in tables:
            end, rows = tables[i]
            out.append((lns[i], rows))
            out.extend((lns[k], []) for k in range(i + 1, end))
            i = end
            continue
        parts = [lns[i]]
        i += 1
        while i < len(lns) and i not in tables:
            join = continuation(lns[i - 1], lns[i])
            if join is None:
                break
            if join == SPACE:
                parts.append(" ")
            elif join == UNHYPHENATE:
                parts[-1] = parts[-1][:-1]
            parts.append(lns[i])
            i += 1
        out.append(("".join(parts), None))
    return out


def continuation(prev, nxt):
    """How line `nxt` goes on from line `prev`: SPACE, GLUE, UNHYPHENATE, or None."""
    last, first = prev[-1], nxt[0]
    first_word = nxt.split(" ")[0].split("\t")[0]
    if last == "-" and len(prev) >= 2 and is_letter(prev[-2]) and is_letter(first):
        if first_word in HYPHEN_WORDS:
            return SPACE
        return UNHYPHENATE if is_lower(first) else GLUE
    back = prev.replace("\t", " ").split(" ")
    last_word, word_before = back[-1], (back[-2] if len(back) >= 2 else "")
    if fold(trim_end(last_word, ":")) in LINE_END_KEYS or fold(trim_end(word_before, ":")) in TYPE_KEYS:
        return SPACE
    if last in ".!?;:":
        return None
    if last == "," or is_lower(first):
        return SPACE
    if len(last_word) >= 3 and all(is_lower(c) for c in last_word):
        return SPACE
    if "0" <= last <= "9" and fold(trim_end(first_word, ".,;:)")) in UNITS:
        return SPACE
    return None


def tabular(ws):
    """Whether words can be a table's header or row: none ends in a colon, and none but
    "sowie" is a lower-case word of four or more letters (as sentences have)."""
    for w in ws:
        if w[-1] == ":" or (len(w) >= 4 and is_lower(w[0]) and w != "sowie"):
            return False
    return True


_ROW_REGEXES = {}


def read_table(lns, flns, i):
    """A location table whose header is line i: (the end of its rows, [(gemarkung, flur,
    parcels)] per row, None where a cell holds no such value), or None."""
    line, fline = lns[i], flns[i]
    if contains_any(fline, OTHER_LAND):
        return None
    rows = []
    if "\t" in line:
        header = [c.strip(" ") for c in fline.split("\t")]
        cols = [next((k for k, c in enumerate(header) if c in names), None) for names in COLUMNS]
        if cols == [None, None, None]:
            return None
        for row in lns[i + 1 : i + 201]:
            cells = [c.strip(" ") for c in row.split("\t")]
            if len(cells) != len(header):
                break
            g, f, p = [cells[c] if c is not None else None for c in cols]
            rows.append(row_values(row, g, f, p, True))
    else:
        ws = words(line)
        if len(ws) < 2 or len(ws) > 16 or not tabular(ws) or any(c in "0123456789,.;:" for c in line):
            return None
        fws = [fold(w) for w in ws]
        cols = [next((k for k, w in enumerate(fws) if w in names), None) for names in COLUMNS]
        present = [c for c in cols if c is not None]
        if present == [] or any(b != a + 1 for a, b in zip(present, present[1:])):
            return None
        starts, ends = present[0] == 0, present[-1] == len(ws) - 1
        if not starts and not ends and cols[0] is None:
            return None
        body = " ".join(ROW_CELLS[k] for k in range(3) if cols[k] is not None)
        pattern = ("^" if starts else "(?:^| )") + body + ("$" if ends else "(?: |$)")
        if pattern not in _ROW_REGEXES:
            _ROW_REGEXES[pattern] = re.compile(pattern)
        regex = _ROW_REGEXES[pattern]
        for row in lns[i + 1 : i + 201]:
            m = None if "\t" in row or not tabular(words(row)) else regex.search(row)
            if m is None:
                break
            groups = iter(m.groups())
            g, f, p = [next(groups) if c is not None else None for c in cols]
            rows.append(row_values(row, g, f, p, False))
    if rows == []:
        return None
    return i + 1 + len(rows), rows


def row_values(row, g, f, p, check):
    """The values of a table row; none of a row about other land, none of a cell that does not
    hold such a value (`check`: the cells of a tab-separated row, not yet matched)."""
    if contains_any(fold(row), OTHER_LAND):
        return None, None, None
    if g is not None and ((check and not NAME_CELL.search(g)) or fold(g) in NOT_NAMES):
        g = None
    if f is not None and check and not NUMBER_CELL.search(f):
        f = None
    if p is not None and check and not PARCEL_CELL.search(p):
        p = None
    return g, f, p


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
