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
const OTHER_LAND = ['fläche', 'zuwegung', 'zufahrt', 'baulast', 'kompensation', 'ausgleich'];

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
    '(?:[^0-9a-zäöüß]|$)',
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
const GEMARKUNG = all(
  '(?:^|[^A-Za-zÄÖÜäöüß])[Gg]emarkung[ \\t]*:?[ \\t]+([A-ZÄÖÜ][a-zäöüß]{1,40}(?:-[A-ZÄÖÜ][a-zäöüß]{1,40})?)',
);
const FLUR = all('(?:^|[^A-Za-zÄÖÜäöüß])[Ff]lur[ \\t]*:?[ \\t]+([0-9]{1,4})(?:[^0-9/]|$)');
const PARCEL = '[0-9]{1,5}(?:/[0-9]{1,4})?(?: \\([^()]{0,20}\\))?';
const PARCELS = all(
  '(?:^|[^A-Za-zÄÖÜäöüß])[Ff]lurst(?:ü|ue)ck(?:e|en|s)?[ \\t]*:?[ \\t]+' +
    `(${PARCEL}(?:(?:, | und | sowie )${PARCEL}){0,63})`,
);
const PARCEL_CELL = one(`^${PARCEL}(?:(?:, | und | sowie )${PARCEL}){0,63}$`);
const NOTE = new RegExp('\\([^()]{0,20}\\)', 'gu');
const PARCEL_NUMBER = new RegExp('[0-9]{1,5}(?:/[0-9]{1,4})?', 'gu');
const NAME_CELL = one('^[A-ZÄÖÜ][a-zäöüß]{1,40}(?:-[A-ZÄÖÜ][a-zäöüß]{1,40})?$');
const NUMBER_CELL = one('^[0-9]{1,4}$');
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

  const fields = [];
  const kind = classify(lns, flns);
  if (kind !== null && kind[1] !== null) fields.push(['unterlagenart', kind[1]]);
  const [gemarkung, flur, parcels] = location(lns, flns);
  const facts = [
    ['anzahl-wea', turbineCount(flns)],
    ['anlagentyp', mostCommon(lns.flatMap((line) => captures(MODEL, line, 1).map(([, v]) => v)))],
    ['nabenhoehe-m', hubHeight(flns)],
    ['rotordurchmesser-m', measureValue(ROTOR, flns)],
    ['gesamthoehe-m', measureValue(TOTAL, flns)],
    ['nennleistung-mw', power(flns)],
    ['gemarkung', gemarkung],
    ['flur', flur],
    ['flurstuecke', parcels.length > 0 ? parcels.join(', ') : null],
    ['aktenzeichen', aktenzeichen(lns, flns)],
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
      const before = line.slice(0, start);
      if (before.endsWith('als ') || before.endsWith('bis ')) continue;
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
      if (flns[k].slice(0, start).endsWith('zu ')) return az;
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

function location(lns, flns) {
  const gemarkungen = [];
  const flure = [];
  const parcels = [];
  for (let i = 0; i < lns.length; i += 1) {
    for (const clause of clauses(lns[i])) {
      if (containsAny(fold(clause), OTHER_LAND)) continue;
      for (const [, v] of captures(GEMARKUNG, clause, 1)) gemarkungen.push(v);
      for (const [, v] of captures(FLUR, clause, 1)) flure.push(v);
      for (const [, list] of captures(PARCELS, clause, 1)) addParcels(list, parcels);
    }
    const header = flns[i].split('\t').map(trimSpaces);
    if (header.length < 2 || containsAny(flns[i], OTHER_LAND)) continue;
    const column = (names) => {
      const k = header.findIndex((c) => names.includes(c));
      return k >= 0 ? k : null;
    };
    const g = column(['gemarkung']);
    const f = column(['flur']);
    const p = column(['flurstück', 'flurstücke']);
    if (g === null && f === null && p === null) continue;
    for (const row of lns.slice(i + 1, i + 1 + 200)) {
      const cells = row.split('\t').map(trimSpaces);
      if (cells.length !== header.length) break;
      if (g !== null && NAME_CELL.test(cells[g])) gemarkungen.push(cells[g]);
      if (f !== null && NUMBER_CELL.test(cells[f])) flure.push(cells[f]);
      if (p !== null && PARCEL_CELL.test(cells[p])) addParcels(cells[p], parcels);
    }
  }
  return [mostCommon(gemarkungen), mostCommon(flure), parcels];
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
