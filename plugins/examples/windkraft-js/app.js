// The windkraft enricher as a component: binds the rules in windkraft.js to the WIT world
// `akte:plugin/enricher` (built by componentize-js; see build.mjs and
// plugins/build-examples.sh). The export `enrich` implements the interface
// `akte:plugin/enrich`; a thrown `{ tag, val }` becomes the `failure` of the result.
import { log } from 'akte:plugin/log@0.1.0';
import { isBlank, suggest } from './windkraft.js';

export const enrich = {
  enrich(document, text) {
    if (isBlank(text)) {
      throw { tag: 'unsupported', val: 'Das Dokument enthält keinen Text.' };
    }
    const s = suggest(document.akteTitle ?? null, text);
    log(
      'debug',
      `windkraft: ${JSON.stringify(document.fileName ?? '?')} → ${JSON.stringify(s.documentType)}, ` +
        `${s.fields.length} fields, confidence ${s.confidence}`,
    );
    return {
      documentType: s.documentType ?? undefined,
      fields: s.fields.map(([name, value]) => ({ name, value })),
      tags: s.tags,
      confidence: s.confidence,
    };
  },
};
