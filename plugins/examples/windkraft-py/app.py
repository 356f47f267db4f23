"""The windkraft enricher as a component: binds the rules in windkraft.py to the WIT
world `akte:plugin/enricher` (built by componentize-py; see plugins/build-examples.sh)."""
from componentize_py_types import Err
from wit_world import exports
from wit_world.imports import log, types

import windkraft


class Enrich(exports.Enrich):
    def enrich(self, document: types.DocumentInfo, text: str) -> exports.enrich.Suggestion:
        if windkraft.is_blank(text):
            raise Err(types.Failure_Unsupported("Das Dokument enthält keinen Text."))
        document_type, fields, tags, confidence = windkraft.suggest(document.akte_title, text)
        log.log(
            log.Level.DEBUG,
            "windkraft: %r → %r, %d fields, confidence %d"
            % (document.file_name or "?", document_type, len(fields), confidence),
        )
        return exports.enrich.Suggestion(
            document_type=document_type,
            fields=[types.Field(name=name, value=value) for name, value in fields],
            tags=tags,
            confidence=confidence,
        )
