// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IEnclaveRegistry
/// @notice Which enclave code may see plaintext (R53): supervisors approve or retire measurements;
/// enclave signing keys are registered from a quote signed by the (SIMULATED) TEE vendor root.
interface IEnclaveRegistry {
    /// @notice Attestation evidence, EIP-712 type
    /// `EnclaveQuote(bytes32 measurement,address signer,bytes32 clusterPublicKey,bytes32 nonce,uint64 issuedAt)`
    /// under the domain `{ name: "Stillflow SIMULATED TEE Vendor", version: "1" }` (no chain id: the vendor
    /// signs independently of any chain).
    struct EnclaveQuote {
        bytes32 measurement;
        address signer;
        bytes32 clusterPublicKey;
        bytes32 nonce;
        uint64 issuedAt;
    }

    /// @notice A registered enclave signing key.
    struct Enclave {
        bytes32 measurement;
        bytes32 clusterPublicKey;
        uint64 registeredAt;
    }

    /// @notice The vendor signature recovers to `recovered`, not the vendor root (zero: malformed signature).
    error EnclaveRegistryInvalidVendorSignature(address recovered);
    /// @notice `measurement` is not approved.
    error EnclaveRegistryMeasurementNotApproved(bytes32 measurement);
    /// @notice `measurement` is already approved.
    error EnclaveRegistryMeasurementAlreadyApproved(bytes32 measurement);
    /// @notice The zero measurement was given.
    error EnclaveRegistryZeroMeasurement();
    /// @notice The quote was issued at `issuedAt`, more than `maxAge` seconds before `timestamp`.
    error EnclaveRegistryQuoteExpired(uint64 issuedAt, uint64 maxAge, uint256 timestamp);
    /// @notice The quote claims to be issued at `issuedAt`, beyond the allowed clock skew after `timestamp`.
    error EnclaveRegistryQuoteFromFuture(uint64 issuedAt, uint256 timestamp);
    /// @notice The quote's nonce was used before (replay).
    error EnclaveRegistryQuoteNonceUsed(bytes32 nonce);
    /// @notice The quote names the zero address as signer.
    error EnclaveRegistryZeroSigner();
    /// @notice `signer` is not a registered enclave.
    error EnclaveRegistryUnknownEnclave(address signer);
    /// @notice A supervisor deregistered `signer`; it can never be registered again.
    error EnclaveRegistrySignerDeregistered(address signer);
    /// @notice The vendor root may not be the zero address.
    error EnclaveRegistryZeroVendorRoot();
    /// @notice The maximum quote age may not be zero.
    error EnclaveRegistryZeroMaxQuoteAge();

    /// @notice `supervisor` approved enclave code with hash `measurement`.
    event MeasurementApproved(bytes32 indexed measurement, address indexed supervisor);
    /// @notice `supervisor` retired `measurement`: its enclaves can no longer record receipts or register.
    event MeasurementRetired(bytes32 indexed measurement, address indexed supervisor);
    /// @notice Enclave key `signer` running `measurement` was registered from a vendor quote.
    event EnclaveRegistered(
        address indexed signer, bytes32 indexed measurement, bytes32 clusterPublicKey, bytes32 nonce, uint64 issuedAt
    );
    /// @notice `supervisor` removed enclave key `signer`.
    event EnclaveDeregistered(address indexed signer, address indexed supervisor);
    /// @notice The admin replaced the vendor root key.
    event VendorRootSet(address indexed previousRoot, address indexed newRoot);
    /// @notice The admin changed the maximum quote age, in seconds.
    event MaxQuoteAgeSet(uint64 previousMaxAge, uint64 newMaxAge);

    /// @notice EIP-712 type hash of `EnclaveQuote`.
    function ENCLAVE_QUOTE_TYPEHASH() external view returns (bytes32);
    /// @notice Allowed clock skew, in seconds, for a quote issued "in the future" of the block time.
    function MAX_CLOCK_SKEW() external view returns (uint64);

    /// @notice Approves `measurement`. Supervisor only.
    function approveMeasurement(bytes32 measurement) external;
    /// @notice Retires `measurement`. Supervisor only.
    function retireMeasurement(bytes32 measurement) external;
    /// @notice Registers `quote.signer` as an enclave running `quote.measurement`. Anyone may submit:
    /// the vendor signature is the authority. Reverts unless `vendorSig` is the vendor root's signature of
    /// `quote`, the measurement is approved, the quote is at most `maxQuoteAge` old, its nonce is new and
    /// its signer was never deregistered.
    function registerEnclave(EnclaveQuote calldata quote, bytes calldata vendorSig) external;
    /// @notice Removes enclave key `signer` (e.g. a leaked key) for good: a fresh vendor quote cannot bring it
    /// back, so anyone holding one cannot undo the supervisor's decision. Supervisor only.
    function deregisterEnclave(address signer) external;
    /// @notice Replaces the vendor root key. Admin only.
    function setVendorRoot(address root) external;
    /// @notice Sets the maximum quote age in seconds. Admin only.
    function setMaxQuoteAge(uint64 maxAge) external;

    /// @notice The measurement `signer` was registered with, or zero when unregistered.
    function enclaveMeasurement(address signer) external view returns (bytes32);
    /// @notice True when `measurement` is approved.
    function isMeasurementApproved(bytes32 measurement) external view returns (bool);
    /// @notice Both at once, for the ledger: `signer`'s measurement (zero when unregistered) and its approval.
    function enclaveStatus(address signer) external view returns (bytes32 measurement, bool approved);
    /// @notice The full record of enclave key `signer` (all zero when unregistered).
    function enclave(address signer) external view returns (Enclave memory);
    /// @notice True when a quote with `nonce` has been used.
    function isQuoteNonceUsed(bytes32 nonce) external view returns (bool);
    /// @notice The vendor root key.
    function vendorRoot() external view returns (address);
    /// @notice Maximum quote age, in seconds.
    function maxQuoteAge() external view returns (uint64);
    /// @notice The EIP-712 digest the vendor signs for `quote`.
    function hashQuote(EnclaveQuote calldata quote) external view returns (bytes32);
}
