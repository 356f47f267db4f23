//! `akte`: the command-line entry point. Parses arguments and hands over to `cmd`; prints
//! errors as one plain sentence and exits non-zero.

mod add;
mod admin;
mod cmd;
mod demo;
mod http;
mod ingest;
mod migrate;
mod output;
mod search;
mod transfer;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Akte: a sovereign e-file repository.
#[derive(Parser, Debug)]
#[command(name = "akte", version = concat!(env!("CARGO_PKG_VERSION"), " (", env!("AKTE_COMMIT"), ")"), about = "Akte: encrypted, content-addressed e-file repository")]
pub struct Cli {
    /// The node's data directory (identity, seen heads, caches).
    #[arg(long, global = true, env = "AKTE_DATA", default_value = "./akte-data")]
    pub data: PathBuf,
    /// The object store: file:///dir, s3://bucket[/prefix] (AWS_* variables), memory://.
    #[arg(long, global = true, env = "AKTE_STORE")]
    pub store: Option<String>,
    /// The operator identity file (age secret keys).
    #[arg(long, global = true, env = "AKTE_IDENTITY")]
    pub identity: Option<PathBuf>,
    /// Print JSON instead of lines for people.
    #[arg(long, global = true)]
    pub json: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create a new repository in an empty store.
    Init {
        /// Wrap the repository key for these age recipients instead of generating an identity.
        #[arg(long = "recipient")]
        recipients: Vec<String>,
    },
    /// Load the demo case (Windpark Hohe Heide) into the repository, creating it if needed.
    Demo {
        /// Where the fixture case lies.
        #[arg(long)]
        fixtures: Option<PathBuf>,
        /// Only load the case; do not start the server.
        #[arg(long)]
        no_serve: bool,
        /// Where to serve.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
    },
    /// Serve the REST API (and later the web UI) until SIGINT or SIGTERM.
    Serve {
        /// Where to listen (default 127.0.0.1:8080; env AKTE_LISTEN).
        #[arg(long)]
        listen: Option<String>,
        /// A TOML configuration file.
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Export Akten through an open format: bagit (RFC 8493), ocfl (OCFL 1.1) or xdomea
    /// (3.0.0, Abgabe 0401). Without --akte, every Akte.
    Export {
        /// bagit, ocfl or xdomea.
        #[arg(long)]
        format: String,
        /// The Akten (ids or Aktenzeichen); repeat for several.
        #[arg(long = "akte")]
        akten: Vec<String>,
        /// Where to write: the bag or storage root directory (must not exist or be empty);
        /// for xdomea the directory that receives the message ZIP.
        #[arg(long)]
        out: PathBuf,
        /// For xdomea: the sending agency (Absender), as the archive or the receiving
        /// agency should read it.
        #[arg(long, env = "AKTE_INSTITUTION", default_value = http::config::DEFAULT_INSTITUTION)]
        institution: String,
    },
    /// Import a BagIt bag, an OCFL storage root, an xdomea 0401 message (ZIP) or a
    /// Paperless-ngx export folder (manifest.json): all or nothing.
    Import {
        /// The bag directory, storage root directory, message ZIP or Paperless-ngx export folder.
        path: PathBuf,
    },
    /// The xdomea Aussonderung to an archive: offer the Akten that are due (0501), read the
    /// archive's appraisal (0502), hand over the archivwürdig Akten (0503), read the
    /// archive's confirmation (0506 deletes, 0507 records receipt).
    Aussonderung {
        /// The step.
        #[command(subcommand)]
        command: AussonderungCommand,
    },
    /// Copy the repository (ciphertext only) to another object store and verify the copy;
    /// rerun after an interruption to resume. The source is only read.
    Migrate {
        /// The target store: file:///dir or s3://bucket[/prefix] (AWS_* variables).
        #[arg(long)]
        to: String,
    },
    /// The audit trail (history of every write and every read through the API).
    Audit {
        /// The audit command.
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Delete closed Akten whose retention has ended (refused while retention runs or a
    /// legal hold is set) and erase from the store what only they used. The evidence
    /// (Aktenzeichen, dates, counts, who, when) stays in the journal. Rerun to finish an
    /// interrupted erasure.
    Delete {
        /// The Akten (ids or Aktenzeichen).
        #[arg(required = true)]
        akten: Vec<String>,
        /// A note for the evidence (no personal data).
        #[arg(long)]
        reason: Option<String>,
    },
    /// Manage API tokens for Fachverfahren and scripts.
    Token {
        /// The token command.
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// The Aktenplan (file plan): its nodes carry the grants, retention and appraisal the
    /// Akten filed under them take.
    Aktenplan {
        /// The Aktenplan command.
        #[command(subcommand)]
        command: PlanCommand,
    },
    /// Manage local accounts (people logging in to the web UI).
    Account {
        /// The account command.
        #[command(subcommand)]
        command: AccountCommand,
    },
    /// Create an Akte; prints its id.
    Create {
        /// The file number, e.g. 61.2-0815/2026.
        #[arg(long)]
        aktenzeichen: String,
        /// The subject (Betreff).
        #[arg(long)]
        title: String,
        /// The Aktenplan code, e.g. 61.2.
        #[arg(long)]
        aktenplan: Option<String>,
        /// Retention in years (omit for unlimited).
        #[arg(long)]
        retention_years: Option<u32>,
    },
    /// Create a Vorgang in an Akte; prints its id.
    Vorgang {
        /// The Akte (id or Aktenzeichen).
        akte: String,
        /// The subject.
        #[arg(long)]
        title: String,
        /// A parent Vorgang (id), for nesting.
        #[arg(long)]
        parent: Option<String>,
    },
    /// Add files as new Dokumente to an Akte.
    Add {
        /// The Akte (id or Aktenzeichen).
        akte: String,
        /// The files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Put them into this Vorgang (id).
        #[arg(long)]
        vorgang: Option<String>,
        /// The document type (Antrag, Gutachten, Bescheid …).
        #[arg(long)]
        document_type: Option<String>,
        /// Store only; leave extraction, OCR and enrichers for `akte ingest`.
        #[arg(long)]
        no_ingest: bool,
    },
    /// Add a new version of a Dokument from a file.
    Version {
        /// The Dokument id.
        dokument: String,
        /// The file.
        file: PathBuf,
        /// Store only; leave extraction, OCR and enrichers for `akte ingest`.
        #[arg(long)]
        no_ingest: bool,
    },
    /// Run extraction, OCR and enrichers on every Dokument that lacks their results.
    Ingest {
        /// Also run again what failed and may pass on another try: timeouts, exhausted
        /// memory, OCR failures (a busy machine, a full disk); reads every recorded result
        /// first. A malformed file or a plugin's own error would say the same again.
        #[arg(long)]
        retry_failed: bool,
    },
    /// Print the text extracted from a Dokument (with OCR); `--json` adds fields, tags and failures.
    Text {
        /// The Dokument id (or a version id).
        dokument: String,
    },
    /// Search the Dokumente (German full text, metadata, Aktenzeichen).
    ///
    /// Words must all match; "phrases", OR, NOT/-word (also -(a OR b) and -"a b"),
    /// (parentheses), Windkraft*, and the fields typ:, absender:, empfänger:, az: (az:61.2-0815,
    /// az:61.2-08*), akte:, datum: (2026-01-01..2026-03-31, 01.03.2026 bis 31.03.2026), status:,
    /// medium:, titel: (also "Betreff: Einwendung", as a pasted header line).
    Search {
        /// The query (it may start with -, as in -Rotmilan).
        #[arg(allow_hyphen_values = true)]
        query: String,
        /// Only inside this Akte (id or Aktenzeichen).
        #[arg(long)]
        akte: Option<String>,
        /// Only below this Aktenplan node (its code, e.g. 61.2).
        #[arg(long)]
        aktenplan: Option<String>,
        /// Only these document types (also inflected: Bescheide finds type Bescheid).
        #[arg(long = "typ")]
        document_type: Vec<String>,
        /// Hits per page, 1 to 100.
        #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=100))]
        limit: u16,
        /// Hits to skip.
        #[arg(long, default_value_t = 0)]
        offset: usize,
        /// Order: relevance, date (newest first) or date-asc.
        #[arg(long, default_value = "relevance")]
        sort: String,
    },
    /// Manage the plugins installed in the repository.
    Plugin {
        /// The plugin command.
        #[command(subcommand)]
        command: PluginCommand,
    },
    /// Change metadata fields: FIELD=TEXT, FIELD:=JSON (numbers, true/false, objects), FIELD= removes.
    Set {
        /// The object id (or an Aktenzeichen).
        object: String,
        /// The fields.
        #[arg(required = true)]
        fields: Vec<String>,
    },
    /// List the Akten, or one Akte's Dokumente.
    Ls {
        /// The Akte (id or Aktenzeichen).
        akte: Option<String>,
    },
    /// Write a Dokument's content (latest version) to a file or stdout; with several
    /// Dokumente, or when `-o` is a directory, each goes there as `<id>-<file name>`.
    Get {
        /// The Dokument ids (or version ids).
        #[arg(required = true)]
        dokumente: Vec<String>,
        /// Output file, or directory for several (default: stdout).
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Version number.
        #[arg(long)]
        version: Option<u32>,
    },
    /// Show an object's history.
    History {
        /// The object id (or an Aktenzeichen).
        object: String,
        /// For an Akte: its Vorgänge and Dokumente (with their versions) too, in the order
        /// things happened.
        #[arg(long)]
        all: bool,
    },
    /// Show repository id, node, store, counts and the state digest.
    Status,
    /// Check every object, name, journal chain and head; non-zero exit on any problem.
    Verify,
    /// Rebuild the node's derived state (catalog and search index) from the store alone.
    Reindex,
    /// Manage who can unlock the repository key.
    Key {
        /// The key command.
        #[command(subcommand)]
        command: KeyCommand,
    },
}

/// `akte plugin …`
#[derive(Subcommand, Debug)]
pub enum PluginCommand {
    /// Install a plugin (a WebAssembly component) into the repository; replaces one of the same name.
    Add {
        /// The component.
        wasm: PathBuf,
        /// Its manifest (plugin.toml); by default NAME.toml or plugin.toml beside the
        /// component, else ./plugin.toml.
        #[arg(long)]
        manifest: Option<PathBuf>,
        /// Run it only below this Aktenplan code (off elsewhere) from the start.
        #[arg(long)]
        aktenplan: Option<String>,
        /// Run it only for this media type (off for others) from the start.
        #[arg(long)]
        media_type: Option<String>,
        /// Install it paused: it runs nowhere until `akte plugin enable`.
        #[arg(long, conflicts_with_all = ["aktenplan", "media_type"])]
        paused: bool,
    },
    /// List the installed plugins.
    List,
    /// Switch a plugin on for one Aktenplan code and/or media type; without them, resume a paused plugin, or run one that is not paused everywhere.
    Enable {
        /// The plugin's name.
        name: String,
        /// Only below this Aktenplan code (e.g. 61.2).
        #[arg(long)]
        aktenplan: Option<String>,
        /// Only for this media type.
        #[arg(long)]
        media_type: Option<String>,
    },
    /// Switch a plugin off for one Aktenplan code and/or media type; without them, pause it everywhere (its rules are kept; `enable` resumes them).
    Disable {
        /// The plugin's name.
        name: String,
        /// Only below this Aktenplan code (e.g. 61.2).
        #[arg(long)]
        aktenplan: Option<String>,
        /// Only for this media type.
        #[arg(long)]
        media_type: Option<String>,
    },
    /// Remove a plugin; it stops running, and its results, which stay stored, are no longer shown or searched.
    Remove {
        /// The plugin's name.
        name: String,
    },
    /// Run a component on a local file and print what it would produce; stores nothing in the repository (compiled components are cached under --data, or AKTE_PLUGIN_CACHE).
    Test {
        /// The component.
        wasm: PathBuf,
        /// The document (a local file).
        document: PathBuf,
        /// Its manifest (default: NAME.toml or plugin.toml beside the component, else
        /// ./plugin.toml).
        #[arg(long)]
        manifest: Option<PathBuf>,
        /// The document's media type (default: from its file name).
        #[arg(long)]
        media_type: Option<String>,
        /// What an enricher or validator is told about the document (as in the repository).
        #[command(flatten)]
        context: TestContext,
    },
}

/// The document's context for `akte plugin test`: what the repository would tell the
/// plugin about the Akte and the Dokument.
#[derive(clap::Args, Debug, Default, Clone)]
pub struct TestContext {
    /// The Aktenplan code of the Akte (e.g. 61.2).
    #[arg(long)]
    pub aktenplan: Option<String>,
    /// The Aktenzeichen of the Akte.
    #[arg(long)]
    pub aktenzeichen: Option<String>,
    /// The title (Betreff) of the Akte.
    #[arg(long)]
    pub akte_title: Option<String>,
    /// The Dokument's type (e.g. Bescheid).
    #[arg(long)]
    pub document_type: Option<String>,
    /// A field of the Dokument, NAME=VALUE (repeatable).
    #[arg(long = "field", value_name = "NAME=VALUE")]
    pub fields: Vec<String>,
}

/// `akte aktenplan …`
#[derive(Subcommand, Debug)]
pub enum PlanCommand {
    /// Add a node; prints its id.
    Add {
        /// Its code, e.g. 61.2 (what Akten name with --aktenplan).
        code: String,
        /// Its title, e.g. Immissionsschutz.
        #[arg(long)]
        title: String,
        /// The code of the node above it.
        #[arg(long)]
        parent: Option<String>,
        /// Retention in years of the Akten filed here (unless they have their own).
        #[arg(long)]
        retention_years: Option<u32>,
        /// Appraisal of the Akten filed here: archivwuerdig, bewerten or vernichten.
        #[arg(long)]
        appraisal: Option<String>,
    },
    /// List the nodes.
    List,
}

/// `akte token …`
#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Create a token; prints the bearer token (shown only this once).
    Create {
        /// Its role: admin, clerk, reader, archivist or service.
        #[arg(long)]
        role: String,
        /// Who or what uses it.
        #[arg(long)]
        name: String,
        /// Organisational units it acts for.
        #[arg(long = "unit")]
        units: Vec<String>,
        /// Days until it expires (default: never).
        #[arg(long)]
        expires_days: Option<u32>,
    },
    /// List the tokens (never their secrets).
    List,
    /// Revoke a token.
    Revoke {
        /// The token's id or name.
        token: String,
    },
}

/// `akte aussonderung …`
#[derive(Subcommand, Debug)]
pub enum AussonderungCommand {
    /// Write the Anbieteverzeichnis (0501) of every closed Akte past its retention, without
    /// a legal hold and not yet offered, into DIR; records the offer in each Akte.
    Offer {
        /// The directory that receives `<ProzessID>_Aussonderung.Anbieteverzeichnis.0501.zip`.
        #[arg(long)]
        out: PathBuf,
        /// The sending agency (Absender).
        #[arg(long, env = "AKTE_INSTITUTION", default_value = http::config::DEFAULT_INSTITUTION)]
        institution: String,
        /// The archive (Empfänger).
        #[arg(long)]
        archive: Option<String>,
    },
    /// Read the archive's Bewertungsverzeichnis (0502, ZIP or XML) and set each offered
    /// Akte's appraisal (A archivwürdig, V vernichten); all or nothing.
    Appraisal {
        /// The message.
        file: PathBuf,
    },
    /// Write the Aussonderung (0503) with the Akten the archive appraised archivwürdig,
    /// documents included, into DIR.
    Handover {
        /// The directory that receives `<ProzessID>_Aussonderung.Aussonderung.0503.zip`.
        #[arg(long)]
        out: PathBuf,
        /// The Aussonderung (ProzessID of its 0501); needed only when several wait.
        #[arg(long)]
        prozess: Option<String>,
        /// The sending agency (Absender).
        #[arg(long, env = "AKTE_INSTITUTION", default_value = http::config::DEFAULT_INSTITUTION)]
        institution: String,
        /// The archive (Empfänger).
        #[arg(long)]
        archive: Option<String>,
    },
    /// Read the archive's confirmation (ZIP or XML): a 0506 deletes the Akten it took over
    /// and those appraised V, keeping the evidence; a 0507 only records receipt. Prints
    /// what it deleted; rerunning deletes nothing twice.
    Confirm {
        /// The message.
        file: PathBuf,
    },
}

/// `akte audit …`
#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Re-read every journal stream from its first entry and check the chain (MACs,
    /// predecessors, heads other nodes saw); non-zero exit when anything is broken.
    Verify,
}

/// `akte account …`
#[derive(Subcommand, Debug)]
pub enum AccountCommand {
    /// Add a local account; the password is read from the first line of standard input.
    Add {
        /// Login name.
        name: String,
        /// Roles: admin, clerk, reader, archivist, service.
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        /// Organisational units.
        #[arg(long = "unit")]
        units: Vec<String>,
    },
    /// List the accounts.
    List,
    /// Stop an account from logging in; its sessions end at their next request.
    Disable {
        /// Login name.
        name: String,
    },
    /// Let a disabled account log in again.
    Enable {
        /// Login name.
        name: String,
    },
    /// Set a new password, read from the first line of standard input.
    Passwd {
        /// Login name.
        name: String,
    },
}

/// `akte key …`
#[derive(Subcommand, Debug)]
pub enum KeyCommand {
    /// List the recipients the repository key is wrapped for.
    List,
    /// Wrap the repository key for another age recipient (age1…).
    AddRecipient {
        /// The recipient.
        recipient: String,
    },
    /// Stop wrapping the repository key for a recipient.
    RemoveRecipient {
        /// The recipient.
        recipient: String,
    },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let json = cli.json;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime starts");
    let outcome = runtime.block_on(cmd::run(cli));
    // Work left on blocking threads (a server stopped while an export zips or OCR runs)
    // does not hold the process: what it would write is derived or unreferenced.
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    if let Some(why) = akte_store::repo::heads_unsaved_in_process() {
        eprintln!(
            "akte: note: the journal heads seen could not be saved ({}); rollback detection misses them until a later save works.",
            output::clip(why)
        );
    }
    match outcome {
        Ok(code) => code,
        Err(e) if json => {
            // A program asked for JSON: the failure too, on stderr, as one object.
            eprintln!("{}", serde_json::json!({ "error": output::sentence(&e) }));
            std::process::ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("akte: {}", output::sentence(&e));
            std::process::ExitCode::from(1)
        }
    }
}
