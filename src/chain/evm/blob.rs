//! EIP-4844 blobs of result bytes: the canonical encoding, KZG commitments, versioned hashes, and the EIP-7594
//! sidecar a type-3 transaction carries (see [`crate::da::eip4844`] for the DA layer of kind 3 built on them).
//!
//! Encoding: alloy's `SimpleCoder`, one blob per result. The first field element holds the length (8 bytes,
//! big-endian), each following one 31 bytes of data behind a zero byte, the rest of the blob is zero. So a
//! result holds at most [`MAX_PAYLOAD`] bytes. The encoding is canonical: [`commitment`] re-encodes the bytes
//! and recomputes the KZG commitment and its versioned hash (`0x01 ‖ sha256(commitment)[1..]`), so bytes verify
//! only against the blob an honest encoder makes of them, and two replicas with the same bytes reveal the same
//! commitment.

use alloy::eips::eip4844::builder::{SidecarBuilder, SimpleCoder};
use alloy::eips::eip4844::env_settings::EnvKzgSettings;
use alloy::eips::eip4844::{AsCkzg, Blob, FIELD_ELEMENTS_PER_BLOB, kzg_to_versioned_hash};
use alloy::eips::eip7594::BlobTransactionSidecarVariant;
use alloy::primitives::B256;

/// Bytes in one blob: 4,096 field elements of 32 bytes.
pub const BYTES_PER_BLOB: usize = alloy::eips::eip4844::BYTES_PER_BLOB;
/// The most bytes one blob holds with the canonical encoding: 4,095 field elements of 31 bytes.
pub const MAX_PAYLOAD: usize = (FIELD_ELEMENTS_PER_BLOB as usize - 1) * 31;

/// Why bytes cannot be, or are not, a blob result.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// The bytes do not fit one blob (1 to [`MAX_PAYLOAD`] bytes), or the KZG work failed.
    #[error("{0}")]
    Unfit(String),
    /// Not a valid blob, or not the blob of the bytes it claims.
    #[error("{0}")]
    Invalid(String),
}

/// Stack for KZG work: blobs are 128 KiB and cells 256 KiB per blob, copied by value along the way (more so
/// without optimisations), which a 2 MiB thread stack does not always hold.
const KZG_STACK: usize = 64 << 20;

/// Runs `f` on a thread of its own with a stack of [`KZG_STACK`] bytes, and waits for it.
fn with_kzg_stack<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("accord-kzg".into())
            .stack_size(KZG_STACK)
            .spawn_scoped(scope, f)
            .expect("a thread for KZG work")
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// The canonical blob of `data` (1 to [`MAX_PAYLOAD`] bytes), alone in a vector (a blob stays on the heap).
fn encode(data: &[u8]) -> Result<Vec<Blob>, BlobError> {
    if data.is_empty() || data.len() > MAX_PAYLOAD {
        return Err(BlobError::Unfit(format!(
            "an EIP-4844 result holds 1 to {MAX_PAYLOAD} bytes; this one is {} bytes",
            data.len()
        )));
    }
    let blobs = with_kzg_stack(|| SidecarBuilder::<SimpleCoder>::from_slice(data).take());
    if blobs.len() != 1 {
        return Err(BlobError::Unfit(format!(
            "the encoder made {} blobs of {} bytes",
            blobs.len(),
            data.len()
        )));
    }
    Ok(blobs)
}

/// The bytes of a canonical blob (131,072 bytes), `size` long: the length it declares must be `size`.
pub fn decode(blob: &[u8], size: u64) -> Result<Vec<u8>, BlobError> {
    if blob.len() != BYTES_PER_BLOB {
        return Err(BlobError::Invalid(format!(
            "a blob is {BYTES_PER_BLOB} bytes, not {}",
            blob.len()
        )));
    }
    let declared = u64::from_be_bytes(blob[1..9].try_into().expect("8 bytes"));
    if declared != size || size == 0 || size > MAX_PAYLOAD as u64 {
        return Err(BlobError::Invalid(format!(
            "the blob declares {declared} bytes, the reference says {size}"
        )));
    }
    let mut data = Vec::with_capacity(size as usize);
    for fe in blob.chunks(32).skip(1) {
        let take = (size as usize - data.len()).min(31);
        data.extend_from_slice(&fe[1..1 + take]);
        if data.len() == size as usize {
            break;
        }
    }
    Ok(data)
}

/// The versioned hash of the KZG commitment of `blob` (131,072 bytes).
pub fn versioned_hash(blob: &[u8]) -> Result<B256, BlobError> {
    let blobs = to_blobs(blob)?;
    versioned_hash_of(&blobs[0])
}

fn versioned_hash_of(blob: &Blob) -> Result<B256, BlobError> {
    let settings = EnvKzgSettings::Default.get();
    let blob = blob.as_ckzg();
    let commitment = with_kzg_stack(|| settings.blob_to_kzg_commitment(blob))
        .map_err(|e| BlobError::Invalid(format!("not a valid blob: {e}")))?;
    Ok(kzg_to_versioned_hash(commitment.to_bytes().as_slice()))
}

/// The commitment of `data` as a blob result: the versioned hash of its canonical blob.
pub fn commitment(data: &[u8]) -> Result<B256, BlobError> {
    versioned_hash_of(&encode(data)?[0])
}

/// The sidecar a transaction carries `data` in: its canonical blob with the KZG commitment and the cell proofs
/// of EIP-7594 (the form nodes take since the Osaka upgrade).
pub fn sidecar(data: &[u8]) -> Result<BlobTransactionSidecarVariant, BlobError> {
    encode(data)?;
    let sidecar =
        with_kzg_stack(|| SidecarBuilder::<SimpleCoder>::from_slice(data).build_7594())
            .map_err(|e| BlobError::Unfit(format!("cannot compute the blob's KZG proofs: {e}")))?;
    Ok(BlobTransactionSidecarVariant::Eip7594(sidecar))
}

/// `bytes` (one whole blob) as a heap vector of one blob, without a 128 KiB copy on the stack.
fn to_blobs(bytes: &[u8]) -> Result<Vec<Blob>, BlobError> {
    if bytes.len() != BYTES_PER_BLOB {
        return Err(BlobError::Invalid(format!(
            "a blob is {BYTES_PER_BLOB} bytes, not {}",
            bytes.len()
        )));
    }
    let mut blobs = vec![Blob::ZERO];
    blobs[0].0.copy_from_slice(bytes);
    Ok(blobs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blobs_round_trip_and_commit_canonically() {
        for len in [1, 30, 31, 32, 4096, MAX_PAYLOAD] {
            let data: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
            let blob = encode(&data).unwrap();
            assert_eq!(
                decode(blob[0].as_slice(), len as u64).unwrap(),
                data,
                "{len}"
            );
            // Every field element starts with a zero byte: a valid BLS12-381 scalar.
            assert!(blob[0].chunks(32).all(|fe| fe[0] == 0));
        }
        let data = b"the same answer".to_vec();
        let c = commitment(&data).unwrap();
        assert_eq!(c[0], 1, "versioned hash version");
        assert_eq!(commitment(&data).unwrap(), c);
        let mut other = data.clone();
        other[0] ^= 1;
        assert_ne!(commitment(&other).unwrap(), c);
        // The sidecar carries the same blob: its versioned hash is the commitment.
        let sidecar = sidecar(&data).unwrap();
        assert_eq!(sidecar.versioned_hashes().collect::<Vec<_>>(), vec![c]);
    }

    #[test]
    fn sizes_outside_one_blob_are_unfit() {
        assert!(matches!(encode(&[]), Err(BlobError::Unfit(_))));
        assert!(matches!(
            encode(&vec![1; MAX_PAYLOAD + 1]),
            Err(BlobError::Unfit(_))
        ));
        assert_eq!(MAX_PAYLOAD, 126_945);
    }

    /// Attack: a blob that declares another length than the reference (a padded or truncated result).
    #[test]
    fn a_blob_declaring_another_size_is_refused() {
        let blob = encode(b"twelve bytes").unwrap();
        assert!(decode(blob[0].as_slice(), 12).is_ok());
        for size in [0, 11, 13, MAX_PAYLOAD as u64 + 1] {
            assert!(
                matches!(decode(blob[0].as_slice(), size), Err(BlobError::Invalid(_))),
                "{size}"
            );
        }
    }
}
