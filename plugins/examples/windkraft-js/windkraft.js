// The windkraft rules (plugins/examples/WINDKRAFT.md) in JavaScript: a port of
// windkraft-rust/src/lib.rs that gives exactly the same suggestion on every input.
//
// Plain ES module without the component bindings, so that it also runs in Node:
//   node -e "import('./windkraft.js').then(w => console.log(w.suggest(null, 'Windpark …')))"
//
// Ported to the character: regular expressions with the `u` flag (code points, as in Rust
// and Python), no Unicode classes, no case-insensitivity, no look-around or back-references,
// every repetition bounded; string positions are UTF-16 units here, but the helpers only
// compare them with positions in a string of the same shape (fold keeps every length).

export const MAX_CHARS = 200000;
export const MAX_PARCELS = 64;

const WIND_TERMS = ['windenergie', 'windkraft', 'windpark', 'windrad', 'windräder', 'windfarm'];
const OTHER_LAND = ['fläche', 'zuwegung', 'zufahrt', 'baulast', 'kompensation', 'ausgleich', 'fundort'];
// Words that follow "Gemarkung" in a table header or a form, never the name of one.
const NOT_NAMES = [
  'flur',
  'flurstück',
  'flurstücke',
  'flurstücken',
  'flurstücks',
  'gemarkung',
  'gemarkungen',
  'gemeinde',
  'anlage',
];
// The column names of a location table: Gemarkung, Flur, Flurstück.
const COLUMNS = [['gemarkung'], ['flur'], ['flurstück', 'flurstücke']];
// A line that ends in one of these (folded, without a colon) goes on in the next line.
const LINE_END_KEYS = [
  'gemarkung',
  'flur',
  'flurstück',
  'flurstücke',
  'flurstücken',
  'nabenhöhe',
  'rotordurchmesser',
  'gesamthöhe',
  'nennleistung',
  'typ',
  'typs',
  'anlagentyp',
];
// A line whose next-to-last word is one of these (folded, without a colon) goes on in the next
// line: the name of a type is broken there ("des Typs Aerovent⏎AV-162").
const TYPE_KEYS = ['typ', 'typs', 'anlagentyp'];
// A line that starts with one of these units goes on from a line that ends in a number.
const UNITS = ['m', 'meter', 'metern', 'mw', 'megawatt'];
// "Montage-" at a line end before one of these is a word of its own.
const HYPHEN_WORDS = ['und', 'oder', 'bis', 'sowie'];
const MAX_ROWS = 200;

const TITLE_RULES = [
  [['zustellungsurkunde'], 'Nachweis', 'Zustellungsurkunde'],
  [['bekanntmachung'], 'Schreiben', 'Öffentliche Bekanntmachung'],
  [['niederschrift', 'protokoll'], 'Niederschrift', null],
  [['vermerk'], 'Vermerk', null],
  [['typenprüfung'], 'Nachweis', 'Typenprüfung'],
  [['prüfbericht'], 'Nachweis', 'Prüfbericht'],
  [['sammeleinwendung'], 'Einwendung', 'Sammeleinwendung'],
  [['einwendung'], 'Einwendung', null],
  [['schallimmissionsprognose', 'schallgutachten', 'schalltechnische'], 'Gutachten', 'Schallgutachten'],
  [['schattenwurf'], 'Gutachten', 'Schattenwurfgutachten'],
  [['turbulenz'], 'Gutachten', 'Turbulenzgutachten'],
  [['eiswurf', 'eisabfall'], 'Gutachten', 'Eiswurfgutachten'],
  [['artenschutz'], 'Gutachten', 'Artenschutzgutachten'],
  [['baugrund'], 'Gutachten', 'Baugrundgutachten'],
  [['begleitplan'], 'Gutachten', 'Landschaftspflegerischer Begleitplan'],
  [['gutacht', 'fachbeitrag', 'konzept'], 'Gutachten', null],
  [['lageplan'], 'Plan', 'Lageplan'],
  [['abstandsfläche'], 'Plan', 'Abstandsflächenplan'],
  [['stellungnahme'], 'Stellungnahme', null],
  [['kurzbeschreibung'], 'Antrag', 'Kurzbeschreibung'],
];

// Evidence for a document type and the confidence it adds.
const TITLE = 40;
const HEAD = 35;
const BODY = 25;
const LETTER = 10;

const NUMBER = '([0-9]{1,4}(?:[.,][0-9]{1,3}){0,2})';
const NAME = '[A-ZÄÖÜ][a-zäöüß]{1,40}(?:-[A-ZÄÖÜ][a-zäöüß]{1,40})?';
const FILLERS = '(?:(?:von|jeweils|je|anlage|rund|ca\\.|etwa|beträgt|damit|bleibt|mit)[ \\t]+){0,3}';

// All searching expressions are global (for matchAll) with match indices; `test` uses
// separate, non-global ones (a global RegExp keeps state between calls).
const all = (source) => new RegExp(source, 'gdu');
const one = (source) => new RegExp(source, 'u');

const measure = (key, units) =>
  all(`${key}[ \\t]*:?[ \\t]*${FILLERS}${NUMBER}[ \\t]?(?:${units})(?:[^0-9a-zäöüß²³/]|$)`);

const COUNT = all(
  '(?:^|[^0-9a-zäöüß.,])(zwei|drei|vier|fünf|sechs|sieben|acht|neun|zehn|elf|zwölf|[0-9]{1,3}) ' +
    '(?:(?:geplanten|beantragten|neuen|weiteren) )?(?:windenergieanlagen|windkraftanlagen|wea|windräder)' +
    '(?:$|[^0-9a-zäöüß ]| $| [^0-9])',
);
const TIMES = all('(?:^|[^0-9a-zäöüß.,])([0-9]{1,3}) ?× ?[a-zäöü]');
const HUB = measure('nabenh(?:ö|oe)he', 'm|meter|metern');
const HUB_BEFORE = all(`(?:^|[^0-9.,])${NUMBER}[ \\t]?(?:m|meter|metern) nabenh(?:ö|oe)he`);
const ROTOR = measure('rotordurchmesser', 'm|meter|metern');
const TOTAL = measure('gesamth(?:ö|oe)he', 'm|meter|metern');
const POWER = all(
  `nennleistung[ \\t]*:?[ \\t]*${FILLERS}${NUMBER}[ \\t]?(?:mw|megawatt)` +
    `(?:[ \\t]+auf[ \\t]+${NUMBER}[ \\t]?(?:mw|megawatt))?(?:[^0-9a-zäöüß]|$)`,
);
const MODEL = all(
  '(?:^|[^A-Za-zÄÖÜäöüß])(?:Anlagentyp|Typs?)[ \\t]*:?[ \\t]+' +
    '([A-Z][A-Za-z]{1,30}(?: [A-Z][a-z]{1,30})? [A-Z]{1,4}-?[0-9]{1,4}(?:[-/.][0-9A-Za-z]{1,6}){0,2})' +
    '(?:[^0-9A-Za-z]|$)',
);
const GEMARKUNG = all(`(?:^|[^A-Za-zÄÖÜäöüß])[Gg]emarkung[ \\t]*:?[ \\t]+(${NAME})`);
const FLUR = all('(?:^|[^A-Za-zÄÖÜäöüß])[Ff]lur[ \\t]*:?[ \\t]+([0-9]{1,4})(?:[^0-9/]|$)');
const PARCEL = '[0-9]{1,5}(?:/[0-9]{1,4})?(?: \\([^()]{0,20}\\))?';
const PARCELS = all(
  '(?:^|[^A-Za-zÄÖÜäöüß])[Ff]lurst(?:ü|ue)ck(?:e|en|s)?[ \\t]*:?[ \\t]+' +
    `(${PARCEL}(?:(?:, | und | sowie )${PARCEL}){0,63})`,
);
const PARCEL_CELL = one(`^${PARCEL}(?:(?:, | und | sowie )${PARCEL}){0,63}$`);
const NOTE = new RegExp('\\([^()]{0,20}\\)', 'gu');
const PARCEL_NUMBER = new RegExp('[0-9]{1,5}(?:/[0-9]{1,4})?', 'gu');
const NAME_CELL = one(`^${NAME}$`);
const NUMBER_CELL = one('^[0-9]{1,4}$');
// The cells of a row of a table without tabs, by column: Gemarkung, Flur, Flurstück.
const ROW_CELLS = [`(${NAME})`, '([0-9]{1,4})', `(${PARCEL}(?:(?:, | und | sowie )${PARCEL}){0,63})`];
const AKTENZEICHEN = all('(?:^|[^0-9A-Za-z./-])([0-9]{1,3}(?:\\.[0-9]{1,3}){0,3}-[0-9]{2,6}/[0-9]{4})(?:[^0-9]|$)');
const WEA = one('(?:^|[^A-Za-z])WEA(?:[^A-Za-z]|$)');

const NUMBER_WORDS = ['zwei', 'drei', 'vier', 'fünf', 'sechs', 'sieben', 'acht', 'neun', 'zehn', 'elf', 'zwölf'];

// --- text helpers, as akte_plugin_sdk::text ----------------------------------------------

const BLANKS = ' \t\n\r\u000b\u000c\u00a0\u2007\u202f';

export function isBlank(text) {
  for (const c of text) {
    if (!BLANKS.includes(c)) return false;
  }
  return true;
}

export function fold(text) {
  let out = '';
  for (const c of text) {
    const code = c.codePointAt(0);
    if (code >= 0x41 && code <= 0x5a) out += String.fromCharCode(code + 32);
    else if (c === 'Ä') out += 'ä';
    else if (c === 'Ö') out += 'ö';
    else if (c === 'Ü') out += 'ü';
    else out += c;
  }
  return out;
}

/** At most the first `max` code points of `text`, without looking at the rest. */
export function prefixChars(text, max) {
  let i = 0;
  let n = 0;
  while (i < text.length && n < max) {
    const c = text.charCodeAt(i);
    const pair = c >= 0xd800 && c <= 0xdbff && i + 1 < text.length;
    const low = pair ? text.charCodeAt(i + 1) : 0;
    i += pair && low >= 0xdc00 && low <= 0xdfff ? 2 : 1;
    n += 1;
  }
  return text.slice(0, i);
}

export function normalize(text) {
  let out = '';
  for (const c of text) {
    if (c === '\r') continue;
    if (c === '\u000b' || c === '\u000c') out += '\n';
    else if (c === '\u00a0' || c === '\u2007' || c === '\u202f') out += ' ';
    else out += c;
  }
  return out;
}

function trimSpaces(s) {
  let start = 0;
  let end = s.length;
  while (start < end && s[start] === ' ') start += 1;
  while (end > start && s[end - 1] === ' ') end -= 1;
  return s.slice(start, end);
}

export function lines(text) {
  const out = [];
  for (const raw of text.split('\n')) {
    const line = trimSpaces(raw);
    let blank = true;
    for (const c of line) {
      if (c !== ' ' && c !== '\t') {
        blank = false;
        break;
      }
    }
    if (!blank) out.push(line);
  }
  return out;
}

export function decimal(number) {
  if (number.includes(',')) return number.split('.').join('').split(',').join('.');
  const groups = number.split('.').slice(1);
  if (groups.length > 0 && groups.every((g) => g.length === 3)) return number.split('.').join('');
  return number;
}

export function mostCommon(items) {
  let best = null;
  let bestN = 0;
  for (let i = 0; i < items.length; i += 1) {
    if (items.slice(0, i).includes(items[i])) continue;
    const n = items.slice(i).filter((x) => x === items[i]).length;
    if (best === null || n > bestN) {
      best = items[i];
      bestN = n;
    }
  }
  return best;
}

const containsAny = (haystack, needles) => needles.some((n) => haystack.includes(n));

// --- the rules -----------------------------------------------------------------------------

function captures(regex, line, group) {
  const out = [];
  for (const m of line.matchAll(regex)) {
    if (m[group] !== undefined) out.push([m.indices[group][0], m[group]]);
  }
  return out;
}

/**
 * The suggestion for a non-blank text: { documentType, fields: [[name, value]], tags,
 * confidence }. `akteTitle` is the title of the document's Akte, or null.
 */
export function suggest(akteTitle, input) {
  const text = normalize(prefixChars(input, MAX_CHARS));
  const folded = fold(text);
  const titleSays = akteTitle !== null && akteTitle !== undefined && containsAny(fold(akteTitle), WIND_TERMS);
  if (!(containsAny(folded, WIND_TERMS) || WEA.test(text) || titleSays)) {
    return { documentType: null, fields: [], tags: [], confidence: 0 };
  }
  const lns = lines(text);
  const flns = lns.map(fold);
  const found = passages(lns, flns);
  const ps = found.map(([p]) => p);
  const fps = ps.map(fold);

  const fields = [];
  const kind = classify(lns, flns);
  if (kind !== null && kind[1] !== null) fields.push(['unterlagenart', kind[1]]);
  const [gemarkung, flur, parcels] = location(found);
  const facts = [
    ['anzahl-wea', turbineCount(fps)],
    ['anlagentyp', mostCommon(ps.flatMap((p) => captures(MODEL, p, 1).map(([, v]) => v)))],
    ['nabenhoehe-m', hubHeight(fps)],
    ['rotordurchmesser-m', measureValue(ROTOR, fps)],
    ['gesamthoehe-m', measureValue(TOTAL, fps)],
    ['nennleistung-mw', power(fps)],
    ['gemarkung', gemarkung],
    ['flur', flur],
    ['flurstuecke', parcels.length > 0 ? parcels.join(', ') : null],
    ['aktenzeichen', aktenzeichen(ps, fps)],
  ];
  for (const [name, value] of facts) {
    if (value !== null) fields.push([name, value]);
  }

  const tags = ['windkraft'];
  if (folded.includes('bimschg') || folded.includes('bundes-immissionsschutzgesetz')) tags.push('bimschg');
  const factsFound = fields.filter(([name]) => name !== 'unterlagenart').length;
  const evidence = kind !== null ? kind[2] : 0;
  const confidence = Math.min(30 + evidence + Math.min(5 * factsFound, 25), 95);
  return { documentType: kind !== null ? kind[0] : null, fields, tags, confidence };
}

function classify(lns, flns) {
  if (flns.length === 0) return null;
  const title = flns[0];
  for (const [keywords, docType, unterlagenart] of TITLE_RULES) {
    if (containsAny(title, keywords)) return [docType, unterlagenart, TITLE];
  }
  if (title.includes('antrag') && title.includes('genehmigung')) {
    return ['Antrag', title.includes('änderung') ? 'Änderungsantrag' : 'Genehmigungsantrag', TITLE];
  }
  const firstWord = lns[0].split(' ')[0];
  const foldedFirst = fold(firstWord);
  if (foldedFirst.endsWith('bescheid') || foldedFirst.endsWith('genehmigung')) {
    return ['Bescheid', firstWord, TITLE];
  }

  const salutation = flns.slice(0, 15).findIndex((l) => l.startsWith('sehr geehrte'));
  const head = flns.slice(0, salutation >= 0 ? salutation : Math.min(flns.length, 12));
  const inHead = (test) => head.findIndex(test);

  if (inHead((l) => l.startsWith('prüfbericht')) >= 0) return ['Nachweis', 'Prüfbericht', HEAD];
  const einwendung = (l) =>
    l.startsWith('einwendung') ||
    l.startsWith('sammeleinwendung') ||
    l.startsWith('betreff: einwendung') ||
    l.includes('; einwendung');
  if (inHead(einwendung) >= 0) return ['Einwendung', null, HEAD];
  if (inHead((l) => l.startsWith('stellungnahme')) >= 0) return ['Stellungnahme', null, HEAD];
  const i = inHead((l) => !l.includes(' ') && !l.includes('\t') && l.endsWith('bescheid'));
  if (i >= 0) return ['Bescheid', lns[i], HEAD];
  if (inHead((l) => l.startsWith('lageplan')) >= 0) return ['Plan', 'Lageplan', HEAD];
  if (inHead((l) => l.startsWith('berechnung der abstandsflächen') || l.startsWith('abstandsflächenberechnung')) >= 0) {
    return ['Plan', 'Abstandsflächenplan', HEAD];
  }
  if (inHead((l) => l.includes('einvernehmen')) >= 0) return ['Stellungnahme', 'Einvernehmen', HEAD];

  const body = flns.slice(0, 25);
  const raises = ['erhebe ich', 'erheben wir', 'wir erheben', 'unterzeichnenden erheben'];
  if (body.some((l) => l.includes('einwendung') && containsAny(l, raises))) return ['Einwendung', null, BODY];
  if (body.some((l) => l.includes('wie folgt stellung'))) return ['Stellungnahme', null, BODY];
  const conditions = ['aufzunehmen', 'aufgenommen', 'zu übernehmen'];
  if (body.some((l) => l.includes('in den genehmigungsbescheid') && containsAny(l, conditions))) {
    return ['Stellungnahme', null, BODY];
  }
  if (body.some((l) => l.startsWith('sehr geehrte'))) return ['Schreiben', null, LETTER];
  return null;
}

function turbineCount(flns) {
  const counts = [];
  for (const line of flns) {
    for (const [start, n] of captures(COUNT, line, 1).concat(captures(TIMES, line, 1))) {
      if (line.endsWith('als ', start) || line.endsWith('bis ', start)) continue;
      const w = NUMBER_WORDS.indexOf(n);
      const value = w >= 0 ? w + 2 : parseInt(n, 10);
      if (value >= 1 && value <= 200) counts.push(value);
    }
  }
  const n = mostCommon(counts);
  return n === null ? null : String(n);
}

function hubHeight(flns) {
  const values = [];
  for (const line of flns) {
    for (const [, v] of captures(HUB, line, 1).concat(captures(HUB_BEFORE, line, 1))) values.push(decimal(v));
  }
  return mostCommon(values);
}

function measureValue(regex, flns) {
  return mostCommon(flns.flatMap((line) => captures(regex, line, 1).map(([, v]) => decimal(v))));
}

function power(flns) {
  const values = [];
  for (const line of flns) {
    for (const m of line.matchAll(POWER)) values.push(decimal(m[2] !== undefined ? m[2] : m[1]));
  }
  return mostCommon(values);
}

function aktenzeichen(lns, flns) {
  const found = [];
  for (let k = 0; k < lns.length; k += 1) {
    for (const [start, az] of captures(AKTENZEICHEN, lns[k], 1)) {
      if (flns[k].endsWith('zu ', start)) return az;
      found.push(az);
    }
  }
  return mostCommon(found);
}

function addParcels(list, parcels) {
  for (const m of list.replace(NOTE, '').matchAll(PARCEL_NUMBER)) {
    if (parcels.length < MAX_PARCELS && !parcels.includes(m[0])) parcels.push(m[0]);
  }
}

function location(found) {
  const gemarkungen = [];
  const flure = [];
  const parcels = [];
  for (const [text, rows] of found) {
    if (rows !== null) {
      for (const [g, f, p] of rows) {
        if (g !== null) gemarkungen.push(g);
        if (f !== null) flure.push(f);
        if (p !== null) addParcels(p, parcels);
      }
      continue;
    }
    for (const clause of clauses(text)) {
      if (containsAny(fold(clause), OTHER_LAND)) continue;
      for (const [, v] of captures(GEMARKUNG, clause, 1)) {
        if (!NOT_NAMES.includes(fold(v))) gemarkungen.push(v);
      }
      for (const [, v] of captures(FLUR, clause, 1)) flure.push(v);
      for (const [, list] of captures(PARCELS, clause, 1)) addParcels(list, parcels);
    }
  }
  return [mostCommon(gemarkungen), mostCommon(flure), parcels];
}

// --- passages: tables, and sentences across line breaks --------------------------------------

const LOWER = 'abcdefghijklmnopqrstuvwxyzäöüß';
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÜ';
const SPACE = 1;
const GLUE = 2;
const UNHYPHENATE = 3;

// `c` is one code point (or undefined); every letter here is in the BMP.
const isLower = (c) => c !== undefined && c.length === 1 && LOWER.includes(c);
const isLetter = (c) => c !== undefined && c.length === 1 && (LOWER.includes(c) || UPPER.includes(c));
const isDigit = (c) => c !== undefined && c.length === 1 && c >= '0' && c <= '9';
const words = (line) => line.split(' ').filter((w) => w !== '');

function trimEnd(word, chars) {
  let end = word.length;
  while (end > 0 && chars.includes(word[end - 1])) end -= 1;
  return word.slice(0, end);
}

// The last two code points of `s` (the second undefined when `s` has one).
function lastTwo(s) {
  const cs = Array.from(s.slice(-4));
  return [cs[cs.length - 1], cs[cs.length - 2]];
}

/**
 * The passages in order as [text, rows]: a location table's lines one by one (rows: the
 * values of its rows for the header, [] for the rows), and the other lines joined into
 * sentences where a line goes on in the next (rows: null).
 */
function passages(lns, flns) {
  const cache = new Map();
  const tables = new Map();
  for (let i = 0; i < lns.length; ) {
    const table = readTable(lns, flns, i, cache);
    if (table === null) {
      i += 1;
    } else {
      tables.set(i, table);
      i = table[0];
    }
  }
  const out = [];
  let i = 0;
  while (i < lns.length) {
    if (tables.has(i)) {
      const [end, rows] = tables.get(i);
      out.push([lns[i], rows]);
      for (let k = i + 1; k < end; k += 1) out.push([lns[k], []]);
      i = end;
      continue;
    }
    const parts = [lns[i]];
    i += 1;
    while (i < lns.length && !tables.has(i)) {
      const join = continuation(lns[i - 1], lns[i]);
      if (join === null) break;
      if (join === SPACE) parts.push(' ');
      else if (join === UNHYPHENATE) parts[parts.length - 1] = parts[parts.length - 1].slice(0, -1);
      parts.push(lns[i]);
      i += 1;
    }
    out.push([parts.join(''), null]);
  }
  return out;
}

/** How line `next` goes on from line `prev`: SPACE, GLUE, UNHYPHENATE, or null. */
function continuation(prev, next) {
  const [last, before] = lastTwo(prev);
  const first = String.fromCodePoint(next.codePointAt(0));
  const firstWord = next.split(' ')[0].split('\t')[0];
  if (last === '-' && isLetter(before) && isLetter(first)) {
    if (HYPHEN_WORDS.includes(firstWord)) return SPACE;
    return isLower(first) ? UNHYPHENATE : GLUE;
  }
  const back = prev.split('\t').join(' ').split(' ');
  const lastWord = back[back.length - 1];
  const wordBefore = back.length >= 2 ? back[back.length - 2] : '';
  if (LINE_END_KEYS.includes(fold(trimEnd(lastWord, ':'))) || TYPE_KEYS.includes(fold(trimEnd(wordBefore, ':')))) {
    return SPACE;
  }
  if ('.!?;:'.includes(last)) return null;
  if (last === ',' || isLower(first)) return SPACE;
  const chars = Array.from(lastWord);
  if (chars.length >= 3 && chars.every(isLower)) return SPACE;
  if (isDigit(last) && UNITS.includes(fold(trimEnd(firstWord, '.,;:)')))) return SPACE;
  return null;
}

/**
 * Whether words can be a table's header or row: none ends in a colon, and none but
 * "sowie" is a lower-case word of four or more letters (as sentences have).
 */
function tabular(ws) {
  for (const w of ws) {
    const cs = Array.from(w);
    if (cs[cs.length - 1] === ':' || (cs.length >= 4 && isLower(cs[0]) && w !== 'sowie')) return false;
  }
  return true;
}

/**
 * A location table whose header is line i: [the end of its rows, [[gemarkung, flur,
 * parcels]] per row, null where a cell holds no such value], or null.
 */
function readTable(lns, flns, i, cache) {
  const line = lns[i];
  const fline = flns[i];
  if (containsAny(fline, OTHER_LAND)) return null;
  const rows = [];
  if (line.includes('\t')) {
    const header = fline.split('\t').map(trimSpaces);
    const cols = COLUMNS.map((names) => {
      const k = header.findIndex((c) => names.includes(c));
      return k >= 0 ? k : null;
    });
    if (cols.every((c) => c === null)) return null;
    for (const row of lns.slice(i + 1, i + 1 + MAX_ROWS)) {
      const cells = row.split('\t').map(trimSpaces);
      if (cells.length !== header.length) break;
      rows.push(rowValues(row, cols.map((c) => (c !== null ? cells[c] : null)), true));
    }
  } else {
    const ws = words(line);
    if (ws.length < 2 || ws.length > 16 || !tabular(ws) || /[0-9,.;:]/u.test(line)) return null;
    const fws = ws.map(fold);
    const cols = COLUMNS.map((names) => {
      const k = fws.findIndex((w) => names.includes(w));
      return k >= 0 ? k : null;
    });
    const present = cols.filter((c) => c !== null);
    if (present.length === 0) return null;
    for (let k = 1; k < present.length; k += 1) {
      if (present[k] !== present[k - 1] + 1) return null;
    }
    const starts = present[0] === 0;
    const ends = present[present.length - 1] === ws.length - 1;
    if (!starts && !ends && cols[0] === null) return null;
    const body = [0, 1, 2].filter((k) => cols[k] !== null).map((k) => ROW_CELLS[k]).join(' ');
    const pattern = (starts ? '^' : '(?:^| )') + body + (ends ? '$' : '(?: |$)');
    if (!cache.has(pattern)) cache.set(pattern, one(pattern));
    const regex = cache.get(pattern);
    for (const row of lns.slice(i + 1, i + 1 + MAX_ROWS)) {
      const m = row.includes('\t') || !tabular(words(row)) ? null : regex.exec(row);
      if (m === null) break;
      let g = 1;
      rows.push(rowValues(row, cols.map((c) => (c !== null ? m[g++] : null)), false));
    }
  }
  if (rows.length === 0) return null;
  return [i + 1 + rows.length, rows];
}

/**
 * The values of a table row: none of a row about other land, none of a cell that does not
 * hold such a value (`check`: the cells of a tab-separated row, not yet matched).
 */
function rowValues(row, [g, f, p], check) {
  if (containsAny(fold(row), OTHER_LAND)) return [null, null, null];
  if (g !== null && ((check && !NAME_CELL.test(g)) || NOT_NAMES.includes(fold(g)))) g = null;
  if (f !== null && check && !NUMBER_CELL.test(f)) f = null;
  if (p !== null && check && !PARCEL_CELL.test(p)) p = null;
  return [g, f, p];
}

function clauses(line) {
  // By code points, as the Rust and Python versions.
  const chars = Array.from(line);
  const out = [];
  let start = 0;
  for (let k = 0; k < chars.length; k += 1) {
    const c = chars[k];
    const next = k + 1 < chars.length ? chars[k + 1] : null;
    const after = k + 2 < chars.length ? chars[k + 2] : null;
    if (c === ';' && next === ' ') {
      out.push(chars.slice(start, k).join(''));
      start = k + 2;
    } else if (c === '.' && next === ' ' && after !== null && ((after >= 'A' && after <= 'Z') || 'ÄÖÜ'.includes(after))) {
      out.push(chars.slice(start, k + 1).join(''));
      start = k + 2;
    }
  }
  out.push(chars.slice(Math.min(start, chars.length)).join(''));
  return out;
}
