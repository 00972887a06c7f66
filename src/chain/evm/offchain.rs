//! Off-chain messages on EVM chains: EIP-712 typed data signed by the worker's key. The domain binds a signature
//! to one chain and one deployment (the worker registry's address). [`EvmVerifier`] is the
//! [`crate::offchain::Verifier`] of EVM deployments.
//!
//! Domain: `{name: "Accord", version: "1", chainId, verifyingContract: WorkerRegistry}`.

use alloy::primitives::{Address, B256, Signature};
use alloy::signers::SignerSync;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol;
use alloy::sol_types::{Eip712Domain, SolStruct, eip712_domain};

pub use crate::offchain::{Error, MAX_AHEAD_SECS, check_time, unix_now};
use crate::offchain::{Message, Verdict, Verifier};

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
    signed_by(domain, message, signature, claimed)?;
    check_time(timestamp, now, max_age_secs)
}

/// Checks that `claimed` signed `message` under `domain`.
fn signed_by<T: SolStruct>(
    domain: &Eip712Domain,
    message: &T,
    signature: &[u8],
    claimed: Address,
) -> Result<(), Error> {
    let recovered = recover(domain, message, signature)?;
    if recovered != claimed {
        return Err(Error::WrongSigner {
            claimed: Box::new(super::domain_address(claimed)),
            recovered: Box::new(super::domain_address(recovered)),
        });
    }
    Ok(())
}

/// Checks EIP-712 signatures for one deployment.
#[derive(Debug, Clone)]
pub struct EvmVerifier {
    domain: Eip712Domain,
}

impl EvmVerifier {
    /// The verifier of the deployment whose worker registry is `registry` on chain `chain_id`.
    pub fn new(chain_id: u64, registry: Address) -> Self {
        Self {
            domain: domain(chain_id, registry),
        }
    }

    fn check(&self, message: Message<'_>, signature: &[u8]) -> Result<(), Error> {
        let claimed = evm_worker(&message)?;
        let signature =
            Signature::try_from(signature).map_err(|error| Error::Malformed(error.to_string()))?;
        let recovered = signature
            .recover_address_from_prehash(&signing_hash(&self.domain, message, claimed))
            .map_err(|error| Error::Malformed(error.to_string()))?;
        if recovered != claimed {
            return Err(Error::WrongSigner {
                claimed: Box::new(super::domain_address(claimed)),
                recovered: Box::new(super::domain_address(recovered)),
            });
        }
        Ok(())
    }
}

/// The EVM address of the worker a message names.
fn evm_worker(message: &Message<'_>) -> Result<Address, Error> {
    let worker = message.worker();
    worker
        .as_str()
        .parse()
        .map_err(|_| Error::Malformed(format!("{worker} is not an EVM address")))
}

/// The EIP-712 signing hash of `message` (naming `worker`) under `domain`.
fn signing_hash(domain: &Eip712Domain, message: Message<'_>, worker: Address) -> B256 {
    match message {
        Message::Heartbeat(m) => Heartbeat {
            worker,
            capacity: m.capacity,
            timestamp: m.timestamp,
        }
        .eip712_signing_hash(domain),
        Message::BlobUpload(m) => BlobUpload {
            worker,
            sha256: m.sha256,
            size: m.size,
            timestamp: m.timestamp,
        }
        .eip712_signing_hash(domain),
    }
}

/// Signs a protocol message with `signer` under `domain`: the 65-byte signature. A message naming another worker
/// than the signer is refused (the API would refuse its signature anyway).
pub fn sign_message(
    signer: &PrivateKeySigner,
    domain: &Eip712Domain,
    message: Message<'_>,
) -> Result<[u8; 65], Error> {
    let worker = evm_worker(&message)?;
    if worker != signer.address() {
        return Err(Error::WrongSigner {
            claimed: Box::new(super::domain_address(worker)),
            recovered: Box::new(super::domain_address(signer.address())),
        });
    }
    signer
        .sign_hash_sync(&signing_hash(domain, message, worker))
        .map(|s| s.as_bytes())
        .map_err(|e| Error::Malformed(e.to_string()))
}

impl Verifier for EvmVerifier {
    fn verify<'a>(&'a self, message: Message<'a>, signature: &'a [u8]) -> Verdict<'a> {
        // Recovery is a few tens of microseconds of CPU: answered at once.
        Box::pin(std::future::ready(self.check(message, signature)))
    }
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
                claimed: Box::new(crate::chain::evm::domain_address(worker.address())),
                recovered: Box::new(crate::chain::evm::domain_address(other.address()))
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

    /// The verifier the API holds: a heartbeat or upload verifies only when the worker it names signed exactly
    /// it, for this deployment; a Starknet-form address is refused as malformed, not compared.
    #[tokio::test]
    async fn the_deployment_verifier_checks_signer_message_and_family() {
        use crate::domain::Family;
        use crate::offchain::{self as protocol, Message};

        let worker = PrivateKeySigner::random();
        let thief = PrivateKeySigner::random();
        let registry = Address::repeat_byte(7);
        let verifier = EvmVerifier::new(31337, registry);
        let named = crate::chain::evm::domain_address(worker.address());
        let heartbeat = protocol::Heartbeat {
            worker: named.clone(),
            capacity: 4,
            timestamp: 1_000,
        };
        let sig = sign(&worker, &domain(31337, registry), &beat(&worker, 1_000))
            .unwrap()
            .as_bytes();
        assert_eq!(
            protocol::verify(&verifier, Message::Heartbeat(&heartbeat), &sig, 1_000, 30).await,
            Ok(())
        );
        // The same signature over another capacity, or by another key, is refused.
        let more = protocol::Heartbeat {
            capacity: 5,
            ..heartbeat.clone()
        };
        assert!(matches!(
            protocol::verify(&verifier, Message::Heartbeat(&more), &sig, 1_000, 30).await,
            Err(Error::WrongSigner { .. })
        ));
        let forged = sign(&thief, &domain(31337, registry), &beat(&worker, 1_000))
            .unwrap()
            .as_bytes();
        assert_eq!(
            protocol::verify(
                &verifier,
                Message::Heartbeat(&heartbeat),
                &forged,
                1_000,
                30
            )
            .await,
            Err(Error::WrongSigner {
                claimed: Box::new(named.clone()),
                recovered: Box::new(crate::chain::evm::domain_address(thief.address()))
            })
        );
        // A heartbeat signature does not pass as an upload's.
        let upload = protocol::BlobUpload {
            worker: named,
            sha256: B256::repeat_byte(1),
            size: 4,
            timestamp: 1_000,
        };
        assert!(matches!(
            protocol::verify(&verifier, Message::BlobUpload(&upload), &sig, 1_000, 30).await,
            Err(Error::WrongSigner { .. })
        ));
        // A Starknet-form address is not an EVM worker.
        let starknet = protocol::Heartbeat {
            worker: crate::domain::Address::parse(Family::Starknet, "0x1").unwrap(),
            ..heartbeat
        };
        assert!(matches!(
            protocol::verify(&verifier, Message::Heartbeat(&starknet), &sig, 1_000, 30).await,
            Err(Error::Malformed(_))
        ));
    }

    #[tokio::test]
    async fn a_signer_signs_only_its_own_messages_and_they_verify() {
        use crate::offchain as protocol;
        let worker = PrivateKeySigner::random();
        let other = PrivateKeySigner::random();
        let registry = Address::repeat_byte(7);
        let dom = domain(31337, registry);
        let beat = protocol::Heartbeat {
            worker: crate::chain::evm::domain_address(worker.address()),
            capacity: 2,
            timestamp: 1_000,
        };
        let sig = sign_message(&worker, &dom, Message::Heartbeat(&beat)).unwrap();
        let verifier = EvmVerifier::new(31337, registry);
        assert_eq!(
            protocol::verify(&verifier, Message::Heartbeat(&beat), &sig, 1_000, 30).await,
            Ok(())
        );
        // Another deployment's verifier refuses it.
        let elsewhere = EvmVerifier::new(31337, Address::repeat_byte(8));
        assert!(matches!(
            protocol::verify(&elsewhere, Message::Heartbeat(&beat), &sig, 1_000, 30).await,
            Err(Error::WrongSigner { .. })
        ));
        // A key does not sign a message naming another worker.
        assert!(matches!(
            sign_message(&other, &dom, Message::Heartbeat(&beat)),
            Err(Error::WrongSigner { .. })
        ));
    }
}
