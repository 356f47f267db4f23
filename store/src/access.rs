//! Who may read an Akte: its grants (its own, or inherited from the Aktenplan) as access
//! tokens. The search index files each Dokument under its Akte's tokens, the server checks
//! every endpoint against them, and a deletion's evidence keeps them, so that the evidence
//! is shown to those who could see the Akte.

use crate::{
    catalog::{Catalog, Obj},
    model::ObjKind,
};

/// The grants that apply to an Akte: its own `access` field, or when it has none, that of
/// the nearest Aktenplan node above it that has one (grants per node are inherited).
pub fn effective_access<'a>(catalog: &'a Catalog, akte: &'a Obj) -> Option<&'a serde_json::Value> {
    inherited(catalog, akte, "access")
}

/// What an Akte takes from its Aktenplan and keeps once it is closed: the period and the
/// appraisal it has not of its own. Written into the Akte with the change that closes it,
/// so that a later change of the Aktenplan does not change a closed Akte (and its history
/// shows what it was closed with).
pub fn closing_defaults(catalog: &Catalog, akte: &Obj) -> serde_json::Map<String, serde_json::Value> {
    let mut out = serde_json::Map::new();
    for k in ["retention_years", "appraisal"] {
        if akte.fields.get(k).is_none_or(serde_json::Value::is_null)
            && let Some(v) = inherited(catalog, akte, k)
        {
            out.insert(k.into(), v.clone());
        }
    }
    out
}

/// A field an Akte has of its own or takes from its Aktenplan: its own value, else that of
/// the nearest node above it that has one (`access`, `retention_years`, `appraisal`: the
/// Aktenplan carries defaults for the Akten filed under it).
pub fn inherited<'a>(catalog: &'a Catalog, akte: &'a Obj, key: &str) -> Option<&'a serde_json::Value> {
    if let Some(a) = akte.fields.get(key).filter(|a| !a.is_null()) {
        return Some(a);
    }
    let code = akte.text("aktenplan")?;
    let mut at = catalog.plan_node(code);
    let mut depth = 0;
    while let Some(node) = at {
        if let Some(a) = node.fields.get(key).filter(|a| !a.is_null()) {
            return Some(a);
        }
        depth += 1;
        if depth > 32 {
            break;
        }
        at = node.parent.and_then(|p| catalog.get(&p)).filter(|p| p.kind == ObjKind::Aktenplan);
    }
    None
}

/// The access tokens of a Dokument in an Akte: `akte:<id>` always; the units, roles and
/// users of the Akte's grants ([`effective_access`]) as `unit:…`, `role:…`, `user:…`; and
/// `all` when the grants name nobody and the Akte is not classified (VS-NfD and above are
/// never `all`). A user's tokens decide what she sees, in search and in every endpoint.
pub fn readers_of(catalog: &Catalog, akte: &Obj) -> Vec<String> {
    let mut out = vec![format!("akte:{}", akte.id)];
    let access = effective_access(catalog, akte);
    let list = |key: &str| -> Vec<String> {
        access
            .and_then(|a| a.get(key))
            .and_then(|v| v.as_array())
            .map(|v| v.iter().filter_map(|s| s.as_str().map(str::to_string)).collect())
            .unwrap_or_default()
    };
    let (units, roles, users) = (list("units"), list("roles"), list("users"));
    let classified = akte.text("confidentiality").is_some_and(|c| c != "offen");
    if units.is_empty() && roles.is_empty() && users.is_empty() && !classified {
        out.push("all".into());
    }
    out.extend(units.into_iter().map(|u| format!("unit:{u}")));
    out.extend(roles.into_iter().map(|r| format!("role:{r}")));
    out.extend(users.into_iter().map(|u| format!("user:{u}")));
    out
}
