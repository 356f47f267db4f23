//! Keys: the repository key (an age X25519 identity), the keys derived from it, and the
//! key file that wraps it for the operators' age recipients.

use std::{fmt, io::Read, io::Write, str::FromStr};

use age::secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The repository format version this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;

const NAME_KEY_CONTEXT: &str = "akte 2026-11 v1 object name key";
const JOURNAL_KEY_CONTEXT: &str = "akte 2026-11 v1 journal mac key";

/// The repository key and the keys derived from it.
///
/// `encrypt` targets the repository key's own recipient; `name` and `mac` are keyed
/// BLAKE3 so that only holders of the key can compute or check object names.
pub struct RepoKey {
    identity: age::x25519::Identity,
    recipient: age::x25519::Recipient,
    name_key: [u8; 32],
    journal_key: [u8; 32],
}

impl fmt::Debug for RepoKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RepoKey").field("recipient", &self.recipient.to_string()).finish_non_exhaustive()
    }
}

impl RepoKey {
    /// A fresh random repository key.
    pub fn generate() -> Self {
        Self::from_identity(age::x25519::Identity::generate())
    }

    fn from_identity(identity: age::x25519::Identity) -> Self {
        let secret = identity.to_string();
        let ikm = secret.expose_secret().as_bytes();
        let name_key = blake3::derive_key(NAME_KEY_CONTEXT, ikm);
        let journal_key = blake3::derive_key(JOURNAL_KEY_CONTEXT, ikm);
        let recipient = identity.to_public();
        RepoKey { identity, recipient, name_key, journal_key }
    }

    fn parse(secret: &str) -> Result<Self> {
        let identity = age::x25519::Identity::from_str(secret.trim())
            .map_err(|e| Error::Format(format!("Key file holds no valid repository key: {e}")))?;
        Ok(Self::from_identity(identity))
    }

    /// The keyed BLAKE3 hash that names an object with this plaintext.
    pub fn name(&self, plaintext: &[u8]) -> blake3::Hash {
        blake3::keyed_hash(&self.name_key, plaintext)
    }

    /// A hasher for streaming the keyed name computation.
    pub fn name_hasher(&self) -> blake3::Hasher {
        blake3::Hasher::new_keyed(&self.name_key)
    }

    /// The MAC that authenticates and chains a journal entry.
    pub fn journal_mac(&self, body: &[u8]) -> blake3::Hash {
        blake3::keyed_hash(&self.journal_key, body)
    }

    /// A fingerprint of the repository key that reveals nothing about it; the node records
    /// it on first contact so that a swapped key file is noticed.
    pub fn fingerprint(&self) -> String {
        blake3::hash(self.recipient.to_string().as_bytes()).to_hex()[..32].to_string()
    }

    /// Encrypts `plaintext` to the repository key (age, binary format).
    pub fn encrypt(&self, plaintext: &[u8]) -> Result<Vec<u8>> {
        encrypt_to(std::iter::once(&self.recipient as &dyn age::Recipient), plaintext)
    }

    /// Encrypts the concatenation of `parts` without building it first. A ciphertext of
    /// at least [`ALIGN_FROM`] bytes starts at an address aligned to [`IO_ALIGN`], so that a
    /// local store can hand it to the disk with direct I/O without copying it again
    /// (`backend::Backend::put`).
    pub fn encrypt_parts(&self, parts: &[&[u8]]) -> Result<bytes::Bytes> {
        let (out, start) = encrypt_parts_to(std::iter::once(&self.recipient as &dyn age::Recipient), parts, true)?;
        Ok(bytes::Bytes::from(out).slice(start..))
    }

    /// Decrypts an object that was encrypted to the repository key.
    pub fn decrypt(&self, object: &str, ciphertext: &[u8]) -> Result<Vec<u8>> {
        decrypt_with(std::iter::once(&self.identity as &dyn age::Identity), ciphertext, None)
            .map(|(plain, _)| plain)
            .map_err(|e| Error::integrity(object, format!("does not decrypt ({})", e.text())))
    }

    /// Decrypts an object whose plaintext is `skip` bytes of framing and then a payload;
    /// returns a buffer with the plaintext from the returned offset on. The payload of a
    /// large object starts page-aligned in memory, so that it can be written to a file with
    /// direct I/O without another copy (`direct::Output`).
    pub fn decrypt_framed(&self, object: &str, ciphertext: &[u8], skip: usize) -> Result<(Vec<u8>, usize)> {
        decrypt_with(std::iter::once(&self.identity as &dyn age::Identity), ciphertext, Some(skip))
            .map_err(|e| Error::integrity(object, format!("does not decrypt ({})", e.text())))
    }
}

/// The alignment, in bytes, of large ciphertexts in memory: the page size, which is a
/// multiple of every block size direct I/O asks for.
pub const IO_ALIGN: usize = 4096;

/// Ciphertexts from this size on are aligned to [`IO_ALIGN`] (smaller ones travel in packs
/// and are not worth the padding).
pub const ALIGN_FROM: usize = 64 * 1024;

fn encrypt_to<'a>(recipients: impl Iterator<Item = &'a dyn age::Recipient>, plaintext: &[u8]) -> Result<Vec<u8>> {
    encrypt_parts_to(recipients, &[plaintext], false).map(|(out, _)| out)
}

/// Encrypts the concatenation of `parts`; returns a buffer whose ciphertext begins at the
/// returned offset. With `align`, a large one gets zero padding before it so that it
/// starts page-aligned; without, the offset is 0.
fn encrypt_parts_to<'a>(
    recipients: impl Iterator<Item = &'a dyn age::Recipient>,
    parts: &[&[u8]],
    align: bool,
) -> Result<(Vec<u8>, usize)> {
    let encryptor =
        age::Encryptor::with_recipients(recipients).map_err(|e| Error::Invalid(format!("Cannot encrypt: {e}")))?;
    let len: usize = parts.iter().map(|p| p.len()).sum();
    // age adds a header (~200 bytes per recipient) and 16 bytes per 64 KiB of payload.
    let capacity = len + len / 4096 + 512;
    let align = if align && len >= ALIGN_FROM { IO_ALIGN } else { 1 };
    let mut out: Vec<u8> = Vec::with_capacity(capacity + align - 1);
    // The padding is computed from the allocation itself; as long as age writes no more
    // than `capacity` the buffer never moves. If it did, the ciphertext would merely be
    // unaligned, which the writer checks and handles.
    let start = out.as_ptr().align_offset(align).min(align - 1);
    out.resize(start, 0);
    let mut writer = encryptor.wrap_output(&mut out).map_err(|e| Error::io("<memory>", e))?;
    for part in parts {
        writer.write_all(part).map_err(|e| Error::io("<memory>", e))?;
    }
    writer.finish().map_err(|e| Error::io("<memory>", e))?;
    Ok((out, start))
}

/// Why an age file did not decrypt.
enum DecryptFailure {
    /// None of the offered identities matches a recipient stanza.
    NoMatchingKey,
    /// The file is malformed or its payload fails authentication.
    Corrupt(String),
}

impl DecryptFailure {
    fn text(self) -> String {
        match self {
            DecryptFailure::NoMatchingKey => "no identity matches its recipients".into(),
            DecryptFailure::Corrupt(s) => s,
        }
    }
}

/// The first line of a library message, without trailing punctuation (age's messages can
/// span lines and end in a question).
fn first_line(e: impl std::fmt::Display) -> String {
    let s = e.to_string();
    s.lines().next().unwrap_or_default().trim().trim_end_matches(['.', '?', '!']).to_string()
}

/// Decrypts; with `align_after: Some(skip)` and a large ciphertext, the plaintext is placed
/// so that its bytes from `skip` on start page-aligned, and the returned offset says where
/// the plaintext begins (zero padding before it).
fn decrypt_with<'a>(
    identities: impl Iterator<Item = &'a dyn age::Identity>,
    ciphertext: &[u8],
    align_after: Option<usize>,
) -> std::result::Result<(Vec<u8>, usize), DecryptFailure> {
    let decryptor = age::Decryptor::new_buffered(ciphertext).map_err(|e| DecryptFailure::Corrupt(first_line(e)))?;
    let mut reader = decryptor.decrypt(identities).map_err(|e| match e {
        age::DecryptError::NoMatchingKeys => DecryptFailure::NoMatchingKey,
        e => DecryptFailure::Corrupt(first_line(e)),
    })?;
    // The plaintext is shorter than the ciphertext, so this capacity is never outgrown and
    // the padding computed from it holds.
    let (align, skip) = match align_after {
        Some(skip) if ciphertext.len() >= ALIGN_FROM => (IO_ALIGN, skip),
        _ => (1, 0),
    };
    let mut out: Vec<u8> = Vec::with_capacity(ciphertext.len() + align);
    let start = out.as_ptr().wrapping_add(skip).align_offset(align).min(align - 1);
    out.resize(start, 0);
    reader.read_to_end(&mut out).map_err(|e| DecryptFailure::Corrupt(first_line(e)))?;
    Ok((out, start))
}

/// An operator identity: one or more age X25519 secret keys read from an identity file.
pub struct OperatorIdentity {
    identities: Vec<age::x25519::Identity>,
}

impl OperatorIdentity {
    /// Generates a new operator identity; returns it and the text of its identity file.
    pub fn generate() -> (Self, String) {
        let identity = age::x25519::Identity::generate();
        let text = format!(
            "# akte operator identity; keep it secret, keep a copy offline\n# public key: {}\n{}\n",
            identity.to_public(),
            identity.to_string().expose_secret()
        );
        (OperatorIdentity { identities: vec![identity] }, text)
    }

    /// Parses an identity file: one secret key per line, `#` comments and blank lines allowed.
    pub fn parse(text: &str) -> Result<Self> {
        let mut identities = Vec::new();
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
            let identity = age::x25519::Identity::from_str(line).map_err(|_| {
                Error::Invalid("The identity file holds a line that is not an age X25519 secret key".into())
            })?;
            identities.push(identity);
        }
        if identities.is_empty() {
            return Err(Error::Invalid("The identity file holds no age secret key".into()));
        }
        Ok(OperatorIdentity { identities })
    }

    /// The public recipients of this identity.
    pub fn recipients(&self) -> Vec<String> {
        self.identities.iter().map(|i| i.to_public().to_string()).collect()
    }
}

/// The plaintext of the key file `keys/repository`.
#[derive(Serialize, Deserialize)]
struct KeyFile {
    format: u32,
    repository: uuid::Uuid,
    key: String,
    recipients: Vec<String>,
}

/// The unlocked key file: repository id, key and the operator recipients it is wrapped for.
pub struct Unlocked {
    /// The repository's id, fixed at init.
    pub repository: uuid::Uuid,
    /// The repository key.
    pub key: RepoKey,
    /// The operator recipients (age public keys) that can unlock the key file.
    pub recipients: Vec<String>,
}

/// Parses an age X25519 recipient (`age1…`), with a readable error.
pub fn parse_recipient(text: &str) -> Result<age::x25519::Recipient> {
    // A secret key pasted by mistake is not repeated into a terminal, a log or a ticket.
    if text.to_ascii_uppercase().contains("AGE-SECRET-KEY-") {
        return Err(Error::Invalid(
            "That is an age secret key, not a recipient: give its public key (age1…, `age-keygen -y`), and keep the secret key secret".into(),
        ));
    }
    // Quoted only as far as a recipient goes (62 characters): whatever else was pasted
    // stays out of the message.
    let shown: String = text.trim().chars().take(70).collect();
    age::x25519::Recipient::from_str(text.trim())
        .map_err(|_| Error::Invalid(format!("{shown:?} is not an age X25519 recipient (age1…)")))
}

/// Builds the encrypted key file for `recipients`.
pub fn seal_key_file(repository: uuid::Uuid, key: &RepoKey, recipients: &[String]) -> Result<Vec<u8>> {
    if recipients.is_empty() {
        return Err(Error::Invalid("The repository key must stay wrapped for at least one recipient".into()));
    }
    let parsed = recipients.iter().map(|r| parse_recipient(r)).collect::<Result<Vec<_>>>()?;
    let plain = serde_json::to_vec(&KeyFile {
        format: FORMAT_VERSION,
        repository,
        key: key.identity.to_string().expose_secret().to_string(),
        recipients: recipients.to_vec(),
    })
    .expect("key file serializes");
    encrypt_to(parsed.iter().map(|r| r as &dyn age::Recipient), &plain)
}

/// Opens the encrypted key file with an operator identity.
pub fn open_key_file(ciphertext: &[u8], operator: &OperatorIdentity) -> Result<Unlocked> {
    let plain = decrypt_with(operator.identities.iter().map(|i| i as &dyn age::Identity), ciphertext, None)
        .map(|(plain, _)| plain)
        .map_err(|e| match e {
            DecryptFailure::NoMatchingKey => Error::Locked("none of its keys is a recipient of the key file".into()),
            DecryptFailure::Corrupt(why) => {
                Error::integrity(crate::repo::KEY_FILE, format!("key file is damaged or forged ({why})"))
            }
        })?;
    let file: KeyFile =
        serde_json::from_slice(&plain).map_err(|e| Error::Format(format!("Key file is not readable: {e}")))?;
    if file.format != FORMAT_VERSION {
        return Err(Error::Format(format!(
            "Repository format {} is not supported by this build (it reads format {FORMAT_VERSION})",
            file.format
        )));
    }
    Ok(Unlocked { repository: file.repository, key: RepoKey::parse(&file.key)?, recipients: file.recipients })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_key_given_as_recipient_is_refused_without_repeating_it() {
        let secret = age::x25519::Identity::generate().to_string().expose_secret().to_string();
        for pasted in [format!(" {secret}\n"), format!("# created: 2026-11-28\n# public key: age1xyz\n{secret}\n")] {
            let e = parse_recipient(&pasted).unwrap_err().to_string();
            assert!(e.contains("secret key"), "{e}");
            assert!(!e.contains(&secret[15..]), "the key is not in the message: {e}");
        }
    }

    #[test]
    fn key_file_round_trip_and_wrong_identity() {
        let key = RepoKey::generate();
        let (op, _) = OperatorIdentity::generate();
        let (other, _) = OperatorIdentity::generate();
        let id = uuid::Uuid::new_v4();
        let sealed = seal_key_file(id, &key, &op.recipients()).unwrap();
        let unlocked = open_key_file(&sealed, &op).unwrap();
        assert_eq!(unlocked.repository, id);
        assert_eq!(unlocked.key.fingerprint(), key.fingerprint());
        assert!(matches!(open_key_file(&sealed, &other), Err(Error::Locked(_))));
    }

    #[test]
    fn names_are_keyed() {
        let a = RepoKey::generate();
        let b = RepoKey::generate();
        assert_ne!(a.name(b"same"), b.name(b"same"));
        assert_ne!(a.name(b"same"), blake3::hash(b"same"));
        let ct = a.encrypt(b"hello").unwrap();
        assert_eq!(a.decrypt("x", &ct).unwrap(), b"hello");
        assert!(b.decrypt("x", &ct).unwrap_err().is_integrity());
    }
}
