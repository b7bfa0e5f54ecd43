//! Authenticator (TOTP) secrets are encrypted at rest with ChaCha20-Poly1305 under a key from
//! configuration (`--totp-key`). A stored value reads `v1:<key id>:<base64url(nonce ‖ sealed)>`;
//! the user's id is the associated data, so a sealed secret copied into another row does not
//! open. The key id (a hash of the key, never the key) says which key sealed it, which is what
//! makes rotation possible: start with the new `--totp-key` and the old one in
//! `--totp-old-keys`, and every secret is re-encrypted under the new key at start-up.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, KeyInit, Nonce};

use super::secrets::fill_random;
use crate::config::KEY_BYTES;
pub use crate::config::TotpKey;
use crate::db::Db;

const PREFIX: &str = "v1";
const NONCE_BYTES: usize = 12;

/// A new random key.
pub fn generate_key() -> TotpKey {
    let mut bytes = [0u8; KEY_BYTES];
    fill_random(&mut bytes);
    TotpKey::from_bytes(bytes)
}

fn cipher(key: &TotpKey) -> ChaCha20Poly1305 {
    ChaCha20Poly1305::new(&Key::from(*key.bytes()))
}

/// The current key (seals) and earlier ones (open only, during a rotation).
pub struct TotpVault {
    current: TotpKey,
    old: Vec<TotpKey>,
}

impl TotpVault {
    pub fn new(current: TotpKey, old: Vec<TotpKey>) -> TotpVault {
        let old = old.into_iter().filter(|k| *k != current).collect();
        TotpVault { current, old }
    }

    /// Encrypts a base32 secret for the row of `user_id`.
    pub fn seal(&self, user_id: &str, secret: &str) -> String {
        let mut nonce = [0u8; NONCE_BYTES];
        fill_random(&mut nonce);
        let sealed = cipher(&self.current)
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: secret.as_bytes(),
                    aad: user_id.as_bytes(),
                },
            )
            .expect("ChaCha20-Poly1305 encrypts any message this short");
        let mut blob = nonce.to_vec();
        blob.extend_from_slice(&sealed);
        format!(
            "{PREFIX}:{}:{}",
            self.current.id(),
            URL_SAFE_NO_PAD.encode(blob)
        )
    }

    /// Decrypts a stored secret of the row of `user_id`. A value in clear (written before
    /// secrets were encrypted) is refused here: start-up re-encrypts those.
    pub fn open(&self, user_id: &str, stored: &str) -> anyhow::Result<String> {
        let (key_id, blob) = parse(stored).context("the stored TOTP secret is not encrypted")?;
        let key = self
            .key_by_id(key_id)
            .with_context(|| format!("no configured TOTP key has the id {key_id}"))?;
        let blob = URL_SAFE_NO_PAD
            .decode(blob)
            .context("the stored TOTP secret is not base64url")?;
        anyhow::ensure!(
            blob.len() > NONCE_BYTES,
            "the stored TOTP secret is truncated"
        );
        let (nonce, sealed) = blob.split_at(NONCE_BYTES);
        let nonce: [u8; NONCE_BYTES] = nonce.try_into().expect("split at the nonce length");
        let clear = cipher(key)
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: sealed,
                    aad: user_id.as_bytes(),
                },
            )
            .map_err(|_| anyhow::anyhow!("the stored TOTP secret does not decrypt"))?;
        String::from_utf8(clear).context("the stored TOTP secret is not text")
    }

    fn key_by_id(&self, id: &str) -> Option<&TotpKey> {
        std::iter::once(&self.current)
            .chain(&self.old)
            .find(|k| k.id() == id)
    }

    /// The value to store instead of `stored`, when it is in clear or sealed under an old key;
    /// `None` when it is already sealed under the current key.
    fn resealed(&self, user_id: &str, stored: &str) -> anyhow::Result<Option<String>> {
        match parse(stored) {
            Some((id, _)) if id == self.current.id() => Ok(None),
            Some(_) => Ok(Some(self.seal(user_id, &self.open(user_id, stored)?))),
            None => Ok(Some(self.seal(user_id, stored))),
        }
    }

    /// Encrypts every secret stored in clear and re-encrypts every secret sealed under an old
    /// key, in one transaction. Fails (and start-up with it) when a secret was sealed under a
    /// key that is not configured: serving on would silently break those users' sign-ins.
    pub async fn reseal_all(&self, db: &Db) -> anyhow::Result<usize> {
        type Row = (String, Option<String>, Option<String>);
        let mut tx = db.begin_write().await?;
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, totp_secret, totp_pending_secret FROM users \
             WHERE totp_secret IS NOT NULL OR totp_pending_secret IS NOT NULL",
        )
        .fetch_all(tx.conn())
        .await?;
        let mut changed = 0;
        for (id, secret, pending) in rows {
            let reseal = |value: &Option<String>| -> anyhow::Result<Option<String>> {
                match value {
                    Some(v) => self
                        .resealed(&id, v)
                        .with_context(|| format!("user {id}: cannot re-encrypt its TOTP secret")),
                    None => Ok(None),
                }
            };
            let (new_secret, new_pending) = (reseal(&secret)?, reseal(&pending)?);
            if new_secret.is_none() && new_pending.is_none() {
                continue;
            }
            // Conditional on the values read: a user enrolling meanwhile (another instance keeps
            // serving during a rolling restart) is not overwritten; the next start reseals it.
            sqlx::query(
                "UPDATE users SET totp_secret = $2, totp_pending_secret = $3 \
                 WHERE id = $1 AND COALESCE(totp_secret, '') = $4 AND COALESCE(totp_pending_secret, '') = $5",
            )
            .bind(&id)
            .bind(new_secret.or(secret.clone()))
            .bind(new_pending.or(pending.clone()))
            .bind(secret.unwrap_or_default())
            .bind(pending.unwrap_or_default())
            .execute(tx.conn())
            .await?;
            changed += 1;
        }
        tx.commit().await?;
        Ok(changed)
    }
}

/// `(key id, blob)` of a sealed value; `None` for a value in clear (base32 has no ':').
fn parse(stored: &str) -> Option<(&str, &str)> {
    let rest = stored.strip_prefix(PREFIX)?.strip_prefix(':')?;
    rest.split_once(':')
}

/// The key to use: `--totp-key`, or for an SQLite file a key file beside the database
/// (`<file>.totp-key`), created on first start. PostgreSQL serves several instances, which
/// must share one key: there it must be configured.
pub fn resolve_key(configured: Option<&TotpKey>, database_url: &str) -> anyhow::Result<TotpKey> {
    if let Some(key) = configured {
        return Ok(key.clone());
    }
    match sqlite_file(database_url) {
        Some(None) => {
            tracing::warn!(
                "no --totp-key: authenticator secrets of this in-memory database use a key that ends with the process"
            );
            Ok(generate_key())
        }
        Some(Some(db_file)) => key_file(&key_file_path(&db_file)),
        None => anyhow::bail!(
            "--totp-key (VSYS_TOTP_KEY) is required with PostgreSQL, the same on every instance \
             (32 bytes as base64, e.g. `openssl rand -base64 32`)"
        ),
    }
}

fn key_file_path(db_file: &Path) -> PathBuf {
    let mut name = db_file.as_os_str().to_owned();
    name.push(".totp-key");
    PathBuf::from(name)
}

/// Reads the key file, or creates it (readable by the owner only) and says so in the log.
fn key_file(path: &Path) -> anyhow::Result<TotpKey> {
    match std::fs::read_to_string(path) {
        Ok(text) => text
            .parse()
            .map_err(|e: String| anyhow::anyhow!("{}: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = generate_key();
            match write_new_private(path, &key.to_base64()) {
                // Another process starting on the same file was a moment faster: use its key.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return key_file(path),
                other => other.with_context(|| {
                    format!("cannot create the TOTP key file {}", path.display())
                })?,
            }
            tracing::warn!(
                path = %path.display(),
                key_id = %key.id(),
                "generated the key that encrypts authenticator (TOTP) secrets, beside the database: \
                 back it up with the database; in production pass --totp-key instead"
            );
            Ok(key)
        }
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

fn write_new_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(contents.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()
}

/// For an SQLite URL, `Some(Some(file))` or `Some(None)` in memory; `None` for other databases.
fn sqlite_file(url: &str) -> Option<Option<PathBuf>> {
    let rest = url.strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let in_memory = path.is_empty() || path == ":memory:" || query.contains("mode=memory");
    Some((!in_memory).then(|| PathBuf::from(path)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

    #[test]
    fn a_sealed_secret_opens_for_its_user_only() {
        let vault = TotpVault::new(generate_key(), vec![]);
        let sealed = vault.seal("user-1", SECRET);
        assert!(sealed.starts_with("v1:"), "{sealed}");
        assert!(!sealed.contains(SECRET));
        assert_eq!(vault.open("user-1", &sealed).unwrap(), SECRET);
        assert!(vault.open("user-2", &sealed).is_err());
        // A fresh nonce each time.
        assert_ne!(vault.seal("user-1", SECRET), sealed);
    }

    #[test]
    fn clear_and_tampered_values_do_not_open() {
        let vault = TotpVault::new(generate_key(), vec![]);
        assert!(vault.open("u", SECRET).is_err());
        let sealed = vault.seal("u", SECRET);
        let mut tampered = sealed.clone().into_bytes();
        let last = tampered.len() - 2;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        assert!(
            vault
                .open("u", &String::from_utf8(tampered).unwrap())
                .is_err()
        );
        assert!(vault.open("u", "v1:deadbeef:AAAA").is_err());
    }

    #[test]
    fn another_key_cannot_open_and_an_old_key_can_during_rotation() {
        let (old, new) = (generate_key(), generate_key());
        let sealed = TotpVault::new(old.clone(), vec![]).seal("u", SECRET);
        assert!(
            TotpVault::new(new.clone(), vec![])
                .open("u", &sealed)
                .is_err()
        );
        let rotating = TotpVault::new(new.clone(), vec![old]);
        assert_eq!(rotating.open("u", &sealed).unwrap(), SECRET);
        let resealed = rotating.resealed("u", &sealed).unwrap().unwrap();
        assert!(resealed.starts_with(&format!("v1:{}:", new.id())));
        assert_eq!(
            TotpVault::new(new, vec![]).open("u", &resealed).unwrap(),
            SECRET
        );
        assert_eq!(rotating.resealed("u", &resealed).unwrap(), None);
    }

    #[test]
    fn keys_parse_from_base64_or_hex_and_never_print() {
        let key = generate_key();
        assert_eq!(key.to_base64().parse::<TotpKey>().unwrap(), key);
        assert_eq!(hex::encode(key.bytes()).parse::<TotpKey>().unwrap(), key);
        for bad in [
            "",
            "short",
            &base64::engine::general_purpose::STANDARD.encode([0u8; 16]),
            &"g".repeat(64),
        ] {
            assert!(bad.parse::<TotpKey>().is_err(), "{bad}");
        }
        let printed = format!("{key:?}");
        assert!(!printed.contains(&key.to_base64()) && printed.contains(&key.id()));
    }

    #[test]
    fn sqlite_urls_name_their_file() {
        assert_eq!(
            sqlite_file("sqlite://vsys.db"),
            Some(Some("vsys.db".into()))
        );
        assert_eq!(
            sqlite_file("sqlite:///tmp/x.db?mode=rwc"),
            Some(Some("/tmp/x.db".into()))
        );
        assert_eq!(sqlite_file("sqlite:data.db"), Some(Some("data.db".into())));
        assert_eq!(sqlite_file("sqlite::memory:"), Some(None));
        assert_eq!(sqlite_file("postgres://h/db"), None);
        assert_eq!(
            key_file_path(Path::new("/d/vsys.db")),
            Path::new("/d/vsys.db.totp-key")
        );
    }

    #[test]
    fn a_key_file_is_created_once_and_reread() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("v.db").display());
        let first = resolve_key(None, &url).unwrap();
        let second = resolve_key(None, &url).unwrap();
        assert_eq!(first, second);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("v.db.totp-key"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "{mode:o}");
        }
        let configured = generate_key();
        assert_eq!(resolve_key(Some(&configured), &url).unwrap(), configured);
        assert!(resolve_key(None, "postgres://h/db").is_err());
    }
}
