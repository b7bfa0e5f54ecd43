//! Secrets of the deployment that the server makes itself and keeps in the database
//! (`server_secrets`), so that every instance of a deployment uses the same one.

use anyhow::Context as _;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::secrets::fill_random;
use super::totp_vault::{TotpKey, TotpVault};
use crate::actor::Username;
use crate::config::AuthArgs;
use crate::db::Db;

/// The keys identity works with, loaded once at start-up.
pub struct IdentityKeys {
    pub decoy: DecoyPicker,
    pub totp: TotpVault,
}

impl IdentityKeys {
    /// Loads (or creates) the keys, and brings every stored TOTP secret under the current key
    /// (from [`resolve_key`], called before the database is even opened).
    pub async fn load(db: &Db, config: &AuthArgs, current: TotpKey) -> anyhow::Result<Self> {
        let totp = TotpVault::new(current, config.totp_old_keys.clone());
        let resealed = totp.reseal_all(db).await?;
        if resealed > 0 {
            tracing::info!(
                accounts = resealed,
                "authenticator secrets encrypted under the current TOTP key"
            );
        }
        Ok(IdentityKeys {
            decoy: DecoyPicker::load(db).await?,
            totp,
        })
    }
}

/// Name of the key that picks the decoy security question.
const DECOY_KEY: &str = "password-reset-decoy";

/// The secret called `name`: created (32 random bytes) by the first instance that asks, read by
/// every later one. `ON CONFLICT DO NOTHING` makes two instances starting together agree.
pub async fn server_secret(db: &Db, name: &str) -> anyhow::Result<Vec<u8>> {
    let mut fresh = [0u8; 32];
    fill_random(&mut fresh);
    sqlx::query(
        "INSERT INTO server_secrets (name, value, created_at) VALUES ($1, $2, $3) \
         ON CONFLICT (name) DO NOTHING",
    )
    .bind(name)
    .bind(STANDARD.encode(fresh))
    .bind(db.now())
    .execute(db.pool())
    .await
    .with_context(|| format!("cannot store the server secret {name}"))?;
    let value: String = sqlx::query_scalar("SELECT value FROM server_secrets WHERE name = $1")
        .bind(name)
        .fetch_one(db.pool())
        .await
        .with_context(|| format!("cannot read the server secret {name}"))?;
    let bytes = STANDARD
        .decode(value.trim())
        .with_context(|| format!("the server secret {name} is not base64"))?;
    anyhow::ensure!(bytes.len() >= 32, "the server secret {name} is too short");
    Ok(bytes)
}

/// Picks the decoy security question shown for a username that has no resettable account.
///
/// The choice must be stable (asking twice gives the same question, as for a real account) and
/// unpredictable to outsiders (or comparing the answer with the computed choice tells real
/// accounts from unknown names). A keyed hash — HMAC-SHA-256 under a server secret — is both.
pub struct DecoyPicker {
    key: Vec<u8>,
}

impl DecoyPicker {
    pub async fn load(db: &Db) -> anyhow::Result<DecoyPicker> {
        Ok(DecoyPicker {
            key: server_secret(db, DECOY_KEY).await?,
        })
    }

    /// An index below `choices` for `username`.
    pub fn pick(&self, username: &Username, choices: usize) -> usize {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC accepts keys of any length");
        mac.update(b"vsys decoy question\0");
        mac.update(username.as_str().as_bytes());
        let digest = mac.finalize().into_bytes();
        let mut head = [0u8; 8];
        head.copy_from_slice(&digest[..8]);
        // 2^64 is so much larger than the handful of questions that the modulo bias is nil.
        (u64::from_be_bytes(head) % choices as u64) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn picker(key: &[u8]) -> DecoyPicker {
        DecoyPicker { key: key.to_vec() }
    }

    #[test]
    fn the_choice_is_stable_and_covers_every_question() {
        let p = picker(&[7; 32]);
        let name = Username::from_input("nobody.here");
        assert_eq!(p.pick(&name, 6), p.pick(&name, 6));
        let mut seen = [false; 6];
        for i in 0..200 {
            seen[p.pick(&Username::from_input(&format!("user{i}")), 6)] = true;
        }
        assert!(seen.iter().all(|&s| s), "{seen:?}");
    }

    #[test]
    fn another_key_picks_differently() {
        let (a, b) = (picker(&[1; 32]), picker(&[2; 32]));
        let differing = (0..100)
            .map(|i| Username::from_input(&format!("user{i}")))
            .filter(|name| a.pick(name, 6) != b.pick(name, 6))
            .count();
        // Independent choices agree about one time in six.
        assert!(differing > 60, "{differing}");
    }
}
