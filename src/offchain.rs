//! Off-chain messages a worker signs with its wallet (EIP-712), never API keys: liveness heartbeats and blob
//! uploads. The domain binds a signature to one chain and one deployment (the worker registry's address), so a
//! message signed for a devnet is worthless anywhere else.
//!
//! Domain: `{name: "Accord", version: "1", chainId, verifyingContract: WorkerRegistry}`.

use alloy::primitives::{Address, B256, Signature};
use alloy::signers::SignerSync;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol;
use alloy::sol_types::{Eip712Domain, SolStruct, eip712_domain};

sol! {
    /// "I am alive and take up to `capacity` concurrent jobs", signed by `worker` at unix second `timestamp`.
    #[derive(Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
    struct Heartbeat {
        address worker;
        uint32 capacity;
        uint64 timestamp;
    }

    /// "I upload `size` bytes whose sha256 is `sha256`", signed by `worker` at unix second `timestamp`.
    #[derive(Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
    struct BlobUpload {
        address worker;
        bytes32 sha256;
        uint64 size;
        uint64 timestamp;
    }
}

/// Why a signed message is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    /// The signature bytes are not a 65-byte secp256k1 signature.
    #[error("signature is malformed: {0}")]
    Malformed(String),
    /// The signature is valid but by someone else.
    #[error("signature is by {recovered}, not by {claimed}")]
    WrongSigner {
        /// The address the message names.
        claimed: Address,
        /// The address that signed.
        recovered: Address,
    },
    /// The timestamp is too old.
    #[error("timestamp {timestamp} is more than {max_age_secs} s before now ({now})")]
    Stale {
        /// The message's time.
        timestamp: u64,
        /// The verifier's time.
        now: u64,
        /// The allowed age.
        max_age_secs: u64,
    },
    /// The timestamp is ahead of the verifier's clock by more than [`MAX_AHEAD_SECS`]: a message signed for the
    /// future would stay valid (a heartbeat alive) longer than its age limit says.
    #[error("timestamp {timestamp} is more than {MAX_AHEAD_SECS} s ahead of now ({now})")]
    Future {
        /// The message's time.
        timestamp: u64,
        /// The verifier's time.
        now: u64,
    },
}

/// The EIP-712 domain of one deployment.
pub fn domain(chain_id: u64, registry: Address) -> Eip712Domain {
    eip712_domain! {
        name: "Accord",
        version: "1",
        chain_id: chain_id,
        verifying_contract: registry,
    }
}

/// Signs `message` for `domain`, returning the 65-byte signature.
pub fn sign<T: SolStruct>(
    signer: &PrivateKeySigner,
    domain: &Eip712Domain,
    message: &T,
) -> alloy::signers::Result<Signature> {
    signer.sign_hash_sync(&message.eip712_signing_hash(domain))
}

/// The address that signed `message` under `domain`.
pub fn recover<T: SolStruct>(
    domain: &Eip712Domain,
    message: &T,
    signature: &[u8],
) -> Result<Address, Error> {
    let signature =
        Signature::try_from(signature).map_err(|error| Error::Malformed(error.to_string()))?;
    let hash: B256 = message.eip712_signing_hash(domain);
    signature
        .recover_address_from_prehash(&hash)
        .map_err(|error| Error::Malformed(error.to_string()))
}

/// Checks that `claimed` signed `message` under `domain` and that `timestamp` is within `max_skew_secs` of
/// `now` (both unix seconds).
pub fn verify<T: SolStruct>(
    domain: &Eip712Domain,
    message: &T,
    signature: &[u8],
    claimed: Address,
    timestamp: u64,
    now: u64,
    max_age_secs: u64,
) -> Result<(), Error> {
    let recovered = recover(domain, message, signature)?;
    if recovered != claimed {
        return Err(Error::WrongSigner { claimed, recovered });
    }
    check_time(timestamp, now, max_age_secs)
}

/// How far ahead of the verifier's clock a signed timestamp may be (clock drift between hosts).
pub const MAX_AHEAD_SECS: u64 = 5;

/// A signed timestamp is at most `max_age_secs` old and at most [`MAX_AHEAD_SECS`] ahead of `now`.
pub fn check_time(timestamp: u64, now: u64, max_age_secs: u64) -> Result<(), Error> {
    if timestamp > now.saturating_add(MAX_AHEAD_SECS) {
        return Err(Error::Future { timestamp, now });
    }
    if now.saturating_sub(timestamp) > max_age_secs {
        return Err(Error::Stale {
            timestamp,
            now,
            max_age_secs,
        });
    }
    Ok(())
}

/// Unix seconds now.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn beat(signer: &PrivateKeySigner, timestamp: u64) -> Heartbeat {
        Heartbeat {
            worker: signer.address(),
            capacity: 4,
            timestamp,
        }
    }

    #[test]
    fn a_signature_verifies_only_for_its_signer_domain_and_time() {
        let worker = PrivateKeySigner::random();
        let other = PrivateKeySigner::random();
        let registry = Address::repeat_byte(7);
        let dom = domain(31337, registry);
        let message = beat(&worker, 1_000);
        let sig = sign(&worker, &dom, &message).unwrap().as_bytes();

        assert_eq!(
            verify(&dom, &message, &sig, worker.address(), 1_000, 1_010, 30),
            Ok(())
        );
        // Another chain or deployment recovers someone else.
        for other_domain in [domain(1, registry), domain(31337, Address::repeat_byte(8))] {
            assert!(matches!(
                verify(
                    &other_domain,
                    &message,
                    &sig,
                    worker.address(),
                    1_000,
                    1_000,
                    30
                ),
                Err(Error::WrongSigner { .. })
            ));
        }
        // A changed field recovers someone else.
        let mut tampered = message.clone();
        tampered.capacity = 5;
        assert!(matches!(
            verify(&dom, &tampered, &sig, worker.address(), 1_000, 1_000, 30),
            Err(Error::WrongSigner { .. })
        ));
        // Signed by another wallet.
        let forged = sign(&other, &dom, &message).unwrap().as_bytes();
        assert_eq!(
            verify(&dom, &message, &forged, worker.address(), 1_000, 1_000, 30),
            Err(Error::WrongSigner {
                claimed: worker.address(),
                recovered: other.address()
            })
        );
        // Too old, too far ahead (a few seconds of drift pass), and garbage.
        assert!(matches!(
            verify(&dom, &message, &sig, worker.address(), 1_000, 1_031, 30),
            Err(Error::Stale { .. })
        ));
        assert_eq!(
            verify(&dom, &message, &sig, worker.address(), 1_000, 995, 30),
            Ok(())
        );
        assert!(matches!(
            verify(&dom, &message, &sig, worker.address(), 1_000, 994, 30),
            Err(Error::Future { .. })
        ));
        assert!(matches!(
            verify(
                &dom,
                &message,
                &[1, 2, 3],
                worker.address(),
                1_000,
                1_000,
                30
            ),
            Err(Error::Malformed(_))
        ));
    }
}
