//! Plugins installed in the repository: Plugin objects whose content is the component and
//! whose fields hold the manifest, the switch and the rules. Installing, enabling,
//! disabling and removing are journal changes like any other, with history.

use akte_plugins::Manifest;
use akte_store::{
    Change, Name,
    catalog::{Catalog, Obj},
    content::ContentRef,
    hlc::Hlc,
    model::{ObjKind, PluginRule},
};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::Error;

/// A plugin as installed in the repository.
#[derive(Clone, Debug)]
pub struct Installed {
    /// The Plugin object's id.
    pub id: Uuid,
    /// The manifest, parsed.
    pub manifest: Manifest,
    /// The manifest text as uploaded.
    pub manifest_text: String,
    /// The component's content root.
    pub content: Name,
    /// BLAKE3 of the component (hex).
    pub blake3: String,
    /// Size of the component in bytes.
    pub size: u64,
    /// Enabled where no rule says otherwise.
    pub enabled: bool,
    /// Paused: runs nowhere, whatever the switch and rules say (which are kept for when it
    /// is resumed).
    pub paused: bool,
    /// The rules.
    pub rules: Vec<PluginRule>,
    /// Who installed it.
    pub installed_by: String,
    /// When, RFC 3339.
    pub installed: String,
}

impl Installed {
    fn from_obj(obj: &Obj) -> Result<Option<Installed>, Error> {
        if obj.fields.get("removed").and_then(Value::as_bool) == Some(true) {
            return Ok(None);
        }
        let text = obj.text("manifest").unwrap_or_default().to_string();
        let manifest = Manifest::from_toml(&text)
            .map_err(|e| Error::Invalid(format!("The installed plugin {} has a bad manifest: {e}", obj.id)))?;
        let rules =
            obj.fields.get("rules").map(|r| serde_json::from_value(r.clone()).unwrap_or_default()).unwrap_or_default();
        Ok(Some(Installed {
            id: obj.id,
            manifest,
            manifest_text: text,
            content: obj
                .content
                .ok_or_else(|| Error::Invalid(format!("The installed plugin {} has no component", obj.id)))?,
            blake3: obj.text("blake3").unwrap_or_default().to_string(),
            size: obj.fields.get("size").and_then(Value::as_u64).unwrap_or(0),
            enabled: obj.fields.get("enabled").and_then(Value::as_bool).unwrap_or(true),
            paused: obj.fields.get("paused").and_then(Value::as_bool).unwrap_or(false),
            rules,
            installed_by: obj.created_by.clone(),
            installed: obj.created.rfc3339(),
        }))
    }

    /// Whether the plugin runs for a document of `media_type` in an Akte filed under the
    /// Aktenplan code `aktenplan`. The most specific matching rule decides (a longer code
    /// beats a shorter one; then a rule naming the media type beats one naming its range,
    /// `text/*`, which beats `*/*` and a rule naming none); without
    /// a matching rule, the plugin's switch does. A media type the manifest does not
    /// handle never runs.
    pub fn runs_for(&self, aktenplan: Option<&str>, media_type: &str) -> bool {
        if self.paused || !self.manifest.handles(media_type) {
            return false;
        }
        let mut best: Option<((usize, u8), bool)> = None;
        for rule in &self.rules {
            let plan_depth = match (&rule.aktenplan, aktenplan) {
                (None, _) => 0,
                (Some(r), Some(code)) if code == r || code.starts_with(&format!("{r}.")) => r.len() + 1,
                _ => continue,
            };
            // How narrowly the rule names the type: not at all, `*/*`, `text/*`, `text/plain`.
            let typed = match rule.media_type.as_deref() {
                None => 0,
                Some(range) => match akte_plugins::range_covers(range, media_type) {
                    Some(narrowness) => narrowness + 1,
                    None => continue,
                },
            };
            let rank = (plan_depth, typed);
            if best.is_none_or(|(b, _)| rank >= b) {
                best = Some((rank, rule.enabled));
            }
        }
        best.map(|(_, on)| on).unwrap_or(self.enabled)
    }
}

/// The installed (not removed) plugins, by name.
pub fn installed(catalog: &Catalog) -> Result<Vec<Installed>, Error> {
    let mut out = Vec::new();
    for obj in catalog.all(ObjKind::Plugin) {
        if let Some(p) = Installed::from_obj(obj)? {
            out.push(p);
        }
    }
    out.sort_by(|a, b| a.manifest.name.cmp(&b.manifest.name));
    Ok(out)
}

/// What changes whenever an install, a switch, a rule or a removal changes the installed
/// plugins: each plugin object and when it last changed. For a long-running node to know
/// when to load its pipelines again; cheap enough to ask on every sync (no manifest is
/// parsed).
pub fn state_key(catalog: &Catalog) -> Vec<(Uuid, Hlc)> {
    catalog.all(ObjKind::Plugin).map(|p| (p.id, p.updated)).collect()
}

/// The installed plugin called `name`.
pub fn find(catalog: &Catalog, name: &str) -> Result<Installed, Error> {
    installed(catalog)?
        .into_iter()
        .find(|p| p.manifest.name == name)
        .ok_or_else(|| Error::NotFound(format!("No plugin called {name:?} is installed")))
}

/// The changes that install a plugin whose component is already stored as `content`.
/// A plugin of the same name is replaced: the new one keeps its switch and rules, the old
/// one is marked removed in the same entry. The same name at the same version is refused:
/// results are recorded per version and component, and a second component claiming an
/// installed version is either already there or a mistake (a manifest of another plugin).
pub fn install(
    catalog: &Catalog,
    manifest: &Manifest,
    manifest_text: &str,
    content: &ContentRef,
    digest: &blake3::Hash,
    size: u64,
) -> Result<(Uuid, Vec<Change>), Error> {
    check_new_version(catalog, manifest, digest)?;
    let old = find(catalog, &manifest.name).ok();
    let mut f = fields(json!({
        "name": manifest.name,
        "version": manifest.version.to_string(),
        "world": manifest.world.as_str(),
        "manifest": manifest_text,
        "blake3": digest.to_hex().to_string(),
        "size": size,
        "enabled": old.as_ref().map(|o| o.enabled).unwrap_or(true),
        "paused": old.as_ref().is_some_and(|o| o.paused),
    }));
    if let Some(old) = old.as_ref().filter(|o| !o.rules.is_empty()) {
        f.insert("rules".into(), serde_json::to_value(&old.rules).expect("rules serialize"));
    }
    let id = Uuid::now_v7();
    let mut changes =
        vec![Change::Create { kind: ObjKind::Plugin, id, parent: None, content: Some(content.clone()), fields: f }];
    changes.extend(old.as_ref().map(remove));
    Ok((id, changes))
}

/// Refuses to install a plugin at the version it is installed at (see [`install`]); call
/// it before storing the component.
pub fn check_new_version(catalog: &Catalog, manifest: &Manifest, digest: &blake3::Hash) -> Result<(), Error> {
    let Some(old) = find(catalog, &manifest.name).ok().filter(|o| o.manifest.version == manifest.version) else {
        return Ok(());
    };
    let (name, version) = (&manifest.name, &manifest.version);
    Err(Error::Invalid(if old.blake3 != digest.to_hex().as_str() {
        format!(
            "The plugin {name} {version} is installed with another component; give the new one a new version in its manifest"
        )
    } else if old.manifest != *manifest {
        format!("The plugin {name} {version} is installed with another manifest; give the changed one a new version")
    } else {
        format!("The plugin {name} {version} is installed already with this component and manifest; nothing changed")
    }))
}

/// The installed plugin with exactly this manifest and component, if any: installing it
/// again changes nothing.
pub fn installed_as(catalog: &Catalog, manifest: &Manifest, digest: &blake3::Hash) -> Option<Installed> {
    find(catalog, &manifest.name).ok().filter(|o| o.manifest == *manifest && o.blake3 == digest.to_hex().as_str())
}

/// The fields that make a plugin about to be installed (merged into the `Create` of
/// [`install`]) run only for one Aktenplan code and/or media type (off elsewhere), or, with
/// neither, nowhere until it is enabled (paused): so that it never runs more widely than
/// meant, not even until the next command.
pub fn start_scoped(aktenplan: Option<&str>, media_type: Option<&str>) -> Map<String, Value> {
    if aktenplan.is_none() && media_type.is_none() {
        return fields(json!({"paused": true}));
    }
    let rule = PluginRule {
        aktenplan: aktenplan.map(str::to_string),
        media_type: media_type.map(str::to_ascii_lowercase),
        enabled: true,
    };
    fields(json!({"enabled": false, "paused": false, "rules": [rule]}))
}

/// The change that marks a plugin removed: it stops running; its results stay.
pub fn remove(plugin: &Installed) -> Change {
    Change::Update { id: plugin.id, fields: fields(json!({"removed": true})) }
}

/// The change that switches a plugin on or off by a rule for one Aktenplan code and/or
/// media type (a rule with the same scope is replaced). Without a scope, off pauses the
/// plugin (its switch and rules are kept) and on resumes a paused one; on for a plugin that
/// is not paused means everywhere, and the narrower rules go.
pub fn switch(plugin: &Installed, on: bool, aktenplan: Option<&str>, media_type: Option<&str>) -> Change {
    if aktenplan.is_none() && media_type.is_none() {
        let f = match (on, plugin.paused) {
            (false, _) => json!({"paused": true}),
            (true, true) => json!({"paused": false}),
            (true, false) => json!({"enabled": true, "rules": []}),
        };
        return Change::Update { id: plugin.id, fields: fields(f) };
    }
    let media_type = media_type.map(str::to_ascii_lowercase);
    let media_type = media_type.as_deref();
    let mut rules = plugin.rules.clone();
    rules.retain(|r| !(r.aktenplan.as_deref() == aktenplan && r.media_type.as_deref() == media_type));
    rules.push(PluginRule {
        aktenplan: aktenplan.map(str::to_string),
        media_type: media_type.map(str::to_string),
        enabled: on,
    });
    Change::Update { id: plugin.id, fields: fields(json!({ "rules": rules })) }
}

fn fields(v: Value) -> Map<String, Value> {
    v.as_object().cloned().expect("an object")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plugin(rules: Vec<PluginRule>) -> Installed {
        let text = "name = \"stichwort\"\nversion = \"0.1.0\"\nworld = \"enricher\"\nmedia-types = [\"*/*\"]\n";
        Installed {
            id: Uuid::nil(),
            manifest: Manifest::from_toml(text).unwrap(),
            manifest_text: text.into(),
            content: Name::from_hash(blake3::hash(b"component")),
            blake3: String::new(),
            size: 0,
            enabled: true,
            paused: false,
            rules,
            installed_by: "test".into(),
            installed: String::new(),
        }
    }

    fn rule(aktenplan: Option<&str>, media_type: Option<&str>, enabled: bool) -> PluginRule {
        PluginRule { aktenplan: aktenplan.map(Into::into), media_type: media_type.map(Into::into), enabled }
    }

    #[test]
    fn the_narrowest_rule_decides_and_ranges_match() {
        let p = plugin(vec![rule(None, Some("text/*"), false)]);
        assert!(!p.runs_for(None, "text/plain"), "a range turns it off for its types");
        assert!(p.runs_for(None, "application/pdf"));
        let p = plugin(vec![rule(None, Some("text/*"), false), rule(None, Some("TEXT/PLAIN"), true)]);
        assert!(p.runs_for(None, "text/plain"), "the type beats its range");
        assert!(!p.runs_for(None, "text/html"));
        let p = plugin(vec![rule(None, Some("*/*"), false), rule(Some("61"), None, true)]);
        assert!(p.runs_for(Some("61.2"), "text/plain"), "a code beats any type");
        assert!(!p.runs_for(Some("62"), "text/plain"));
    }

    #[test]
    fn switching_everywhere_removes_the_narrower_rules() {
        let p = plugin(vec![rule(Some("61.2"), None, false)]);
        let Change::Update { fields, .. } = switch(&p, true, None, None) else { panic!("an update") };
        assert_eq!(Value::Object(fields), json!({"enabled": true, "rules": []}));
        let Change::Update { fields, .. } = switch(&p, false, None, Some("Text/*")) else { panic!("an update") };
        assert_eq!(fields["rules"][1]["media_type"], "text/*", "stored lower-case");
    }

    #[test]
    fn off_without_a_scope_pauses_and_keeps_the_rules_for_resuming() {
        let scoped = plugin(vec![rule(None, None, false), rule(Some("61.2"), Some("application/pdf"), true)]);
        let Change::Update { fields, .. } = switch(&scoped, false, None, None) else { panic!("an update") };
        assert_eq!(Value::Object(fields), json!({"paused": true}), "the rules stay");
        let paused = Installed { paused: true, ..scoped.clone() };
        assert!(!paused.runs_for(Some("61.2"), "application/pdf"), "paused runs nowhere");
        let Change::Update { fields, .. } = switch(&paused, true, None, None) else { panic!("an update") };
        assert_eq!(Value::Object(fields), json!({"paused": false}), "resumed with its rules, not everywhere");
        assert!(scoped.runs_for(Some("61.2"), "application/pdf") && !scoped.runs_for(Some("63"), "application/pdf"));
    }
}
