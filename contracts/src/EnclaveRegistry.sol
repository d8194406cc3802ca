// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {StillflowRoles} from "./base/StillflowRoles.sol";
import {IEnclaveRegistry} from "./interfaces/IEnclaveRegistry.sol";

/// @title EnclaveRegistry
/// @notice Holds the approved enclave measurements, the registered enclave signing keys (with their
/// cluster public keys), the used quote nonces, the vendor root and the maximum quote age (R53).
contract EnclaveRegistry is StillflowRoles, IEnclaveRegistry {
    /// @inheritdoc IEnclaveRegistry
    bytes32 public constant ENCLAVE_QUOTE_TYPEHASH = keccak256(
        "EnclaveQuote(bytes32 measurement,address signer,bytes32 clusterPublicKey,bytes32 nonce,uint64 issuedAt)"
    );
    /// @inheritdoc IEnclaveRegistry
    uint64 public constant MAX_CLOCK_SKEW = 300;

    /// @dev EIP-712 domain `{ name: "Stillflow SIMULATED TEE Vendor", version: "1" }`: no chain id and no
    /// verifying contract, because the vendor attests a machine, not a deployment.
    bytes32 private constant VENDOR_DOMAIN_SEPARATOR = keccak256(
        abi.encode(
            keccak256("EIP712Domain(string name,string version)"),
            keccak256("Stillflow SIMULATED TEE Vendor"),
            keccak256("1")
        )
    );

    mapping(bytes32 measurement => bool) private _approved;
    mapping(address signer => Enclave) private _enclaves;
    mapping(bytes32 nonce => bool) private _usedNonces;
    mapping(address signer => bool) private _deregistered;
    address private _vendorRoot;
    uint64 private _maxQuoteAge;

    /// @param admin Governance account.
    /// @param relayer The operator's bookkeeping key.
    /// @param supervisor The supervisor key (approves and retires measurements).
    /// @param vendorRoot_ The (SIMULATED) TEE vendor root key whose quotes are trusted.
    /// @param maxQuoteAge_ Oldest quote accepted, in seconds.
    /// @param approvedMeasurements Measurements approved at deployment (logged as approved by the deployer).
    constructor(
        address admin,
        address relayer,
        address supervisor,
        address vendorRoot_,
        uint64 maxQuoteAge_,
        bytes32[] memory approvedMeasurements
    ) StillflowRoles(admin, relayer, supervisor) {
        _setVendorRoot(vendorRoot_);
        _setMaxQuoteAge(maxQuoteAge_);
        for (uint256 i = 0; i < approvedMeasurements.length; ++i) {
            _approve(approvedMeasurements[i]);
        }
    }

    /// @inheritdoc IEnclaveRegistry
    function approveMeasurement(bytes32 measurement) external onlyRole(SUPERVISOR_ROLE) {
        _approve(measurement);
    }

    /// @inheritdoc IEnclaveRegistry
    function retireMeasurement(bytes32 measurement) external onlyRole(SUPERVISOR_ROLE) {
        if (!_approved[measurement]) revert EnclaveRegistryMeasurementNotApproved(measurement);
        _approved[measurement] = false;
        emit MeasurementRetired(measurement, msg.sender);
    }

    /// @inheritdoc IEnclaveRegistry
    function registerEnclave(EnclaveQuote calldata quote, bytes calldata vendorSig) external whenNotPaused {
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(hashQuote(quote), vendorSig);
        if (err != ECDSA.RecoverError.NoError) recovered = address(0);
        if (recovered != _vendorRoot || recovered == address(0)) revert EnclaveRegistryInvalidVendorSignature(recovered);
        if (quote.signer == address(0)) revert EnclaveRegistryZeroSigner();
        // registerEnclave is open to anyone with a vendor quote: without this, a deregistration would last
        // only until someone re-submitted a quote from the same (perhaps leaked) key.
        if (_deregistered[quote.signer]) revert EnclaveRegistrySignerDeregistered(quote.signer);
        if (!_approved[quote.measurement]) revert EnclaveRegistryMeasurementNotApproved(quote.measurement);
        if (quote.issuedAt > block.timestamp + MAX_CLOCK_SKEW) {
            revert EnclaveRegistryQuoteFromFuture(quote.issuedAt, block.timestamp);
        }
        if (quote.issuedAt + uint256(_maxQuoteAge) < block.timestamp) {
            revert EnclaveRegistryQuoteExpired(quote.issuedAt, _maxQuoteAge, block.timestamp);
        }
        if (_usedNonces[quote.nonce]) revert EnclaveRegistryQuoteNonceUsed(quote.nonce);
        _usedNonces[quote.nonce] = true;
        _enclaves[quote.signer] = Enclave(quote.measurement, quote.clusterPublicKey, uint64(block.timestamp));
        emit EnclaveRegistered(quote.signer, quote.measurement, quote.clusterPublicKey, quote.nonce, quote.issuedAt);
    }

    /// @inheritdoc IEnclaveRegistry
    function deregisterEnclave(address signer) external onlyRole(SUPERVISOR_ROLE) {
        if (_enclaves[signer].measurement == bytes32(0)) revert EnclaveRegistryUnknownEnclave(signer);
        delete _enclaves[signer];
        _deregistered[signer] = true;
        emit EnclaveDeregistered(signer, msg.sender);
    }

    /// @inheritdoc IEnclaveRegistry
    function setVendorRoot(address root) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setVendorRoot(root);
    }

    /// @inheritdoc IEnclaveRegistry
    function setMaxQuoteAge(uint64 maxAge) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setMaxQuoteAge(maxAge);
    }

    /// @inheritdoc IEnclaveRegistry
    function enclaveMeasurement(address signer) external view returns (bytes32) {
        return _enclaves[signer].measurement;
    }

    /// @inheritdoc IEnclaveRegistry
    function isMeasurementApproved(bytes32 measurement) external view returns (bool) {
        return _approved[measurement];
    }

    /// @inheritdoc IEnclaveRegistry
    function enclaveStatus(address signer) external view returns (bytes32 measurement, bool approved) {
        measurement = _enclaves[signer].measurement;
        approved = measurement != bytes32(0) && _approved[measurement];
    }

    /// @inheritdoc IEnclaveRegistry
    function enclave(address signer) external view returns (Enclave memory) {
        return _enclaves[signer];
    }

    /// @inheritdoc IEnclaveRegistry
    function isQuoteNonceUsed(bytes32 nonce) external view returns (bool) {
        return _usedNonces[nonce];
    }

    /// @inheritdoc IEnclaveRegistry
    function vendorRoot() external view returns (address) {
        return _vendorRoot;
    }

    /// @inheritdoc IEnclaveRegistry
    function maxQuoteAge() external view returns (uint64) {
        return _maxQuoteAge;
    }

    /// @inheritdoc IEnclaveRegistry
    function hashQuote(EnclaveQuote calldata quote) public pure returns (bytes32) {
        return MessageHashUtils.toTypedDataHash(VENDOR_DOMAIN_SEPARATOR, keccak256(abi.encode(ENCLAVE_QUOTE_TYPEHASH, quote)));
    }

    function _approve(bytes32 measurement) private {
        if (measurement == bytes32(0)) revert EnclaveRegistryZeroMeasurement();
        if (_approved[measurement]) revert EnclaveRegistryMeasurementAlreadyApproved(measurement);
        _approved[measurement] = true;
        emit MeasurementApproved(measurement, msg.sender);
    }

    function _setVendorRoot(address root) private {
        if (root == address(0)) revert EnclaveRegistryZeroVendorRoot();
        emit VendorRootSet(_vendorRoot, root);
        _vendorRoot = root;
    }

    function _setMaxQuoteAge(uint64 maxAge) private {
        if (maxAge == 0) revert EnclaveRegistryZeroMaxQuoteAge();
        emit MaxQuoteAgeSet(_maxQuoteAge, maxAge);
        _maxQuoteAge = maxAge;
    }
}
