// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {StillflowRoles} from "./base/StillflowRoles.sol";
import {IComputeLedger} from "./interfaces/IComputeLedger.sol";
import {IDataMarket} from "./interfaces/IDataMarket.sol";
import {IEnclaveRegistry} from "./interfaces/IEnclaveRegistry.sol";

/// @title ComputeLedger
/// @notice Holds the record of every job (by job id) and every PSI commitment. Spends licence quota and
/// ε budget in the DataMarket only against an enclave-signed receipt (R58).
contract ComputeLedger is StillflowRoles, EIP712, IComputeLedger {
    /// @inheritdoc IComputeLedger
    bytes32 public constant JOB_RECEIPT_TYPEHASH = keccak256(
        "JobReceipt(bytes32 jobId,uint256 licenceId,bytes32 contentHash,bytes32 queryHash,bytes32 resultHash,uint64 epsilonSpentMilli,bytes32 measurement)"
    );

    /// @inheritdoc IComputeLedger
    bytes32 public constant RECEIPT_PART_TYPEHASH =
        keccak256("ReceiptPart(uint256 licenceId,bytes32 contentHash,uint64 epsilonSpentMilli)");
    /// @inheritdoc IComputeLedger
    bytes32 public constant GROUP_RECEIPT_TYPEHASH = keccak256(
        "GroupReceipt(bytes32 jobId,bytes32 queryHash,bytes32 resultHash,bytes32 measurement,ReceiptPart[] parts)ReceiptPart(uint256 licenceId,bytes32 contentHash,uint64 epsilonSpentMilli)"
    );
    /// @inheritdoc IComputeLedger
    uint256 public constant MAX_GROUP_PARTS = 8;

    IDataMarket private immutable _market;
    IEnclaveRegistry private immutable _registry;
    mapping(bytes32 jobId => JobRecord) private _jobs;
    mapping(bytes32 sessionId => PsiCommitment) private _psi;

    /// @param admin Governance account.
    /// @param relayer The operator's bookkeeping key (commits PSI transcripts).
    /// @param supervisor The supervisor key.
    /// @param market_ The DataMarket, which must grant this contract `LEDGER_ROLE`.
    /// @param registry_ The EnclaveRegistry.
    constructor(address admin, address relayer, address supervisor, IDataMarket market_, IEnclaveRegistry registry_)
        EIP712("Stillflow ComputeLedger", "1")
        StillflowRoles(admin, relayer, supervisor)
    {
        _market = market_;
        _registry = registry_;
    }

    /// @inheritdoc IComputeLedger
    function recordReceipt(JobReceipt calldata receipt, bytes calldata enclaveSig) external whenNotPaused {
        bytes32 jobId = receipt.jobId;
        if (jobId == bytes32(0)) revert ComputeLedgerZeroJobId();
        JobRecord storage record = _jobs[jobId];
        if (record.recordedAt != 0) revert ComputeLedgerJobAlreadyRecorded(jobId);

        address signer = _verifiedEnclave(hashReceipt(receipt), receipt.measurement, enclaveSig);
        {
            bytes32 contentHash = _market.consumeLicence(receipt.licenceId, jobId, receipt.epsilonSpentMilli);
            if (contentHash != receipt.contentHash) {
                revert ComputeLedgerContentMismatch(receipt.licenceId, contentHash, receipt.contentHash);
            }
        }
        // consumeLicence reverts for unknown licences, so the id fits the packed record.
        record.licenceId = uint64(receipt.licenceId);
        record.recordedAt = uint64(block.timestamp);
        record.epsilonSpentMilli = receipt.epsilonSpentMilli;
        emit JobRecorded(
            jobId,
            receipt.licenceId,
            signer,
            receipt.contentHash,
            receipt.queryHash,
            receipt.resultHash,
            receipt.epsilonSpentMilli,
            receipt.measurement
        );
    }

    /// @inheritdoc IComputeLedger
    function recordGroupReceipt(GroupReceipt calldata receipt, bytes calldata enclaveSig) external whenNotPaused {
        bytes32 jobId = receipt.jobId;
        if (jobId == bytes32(0)) revert ComputeLedgerZeroJobId();
        uint256 n = receipt.parts.length;
        if (n < 2 || n > MAX_GROUP_PARTS) revert ComputeLedgerGroupSize(n, MAX_GROUP_PARTS);
        JobRecord storage record = _jobs[jobId];
        if (record.recordedAt != 0) revert ComputeLedgerJobAlreadyRecorded(jobId);

        address signer = _verifiedEnclave(hashGroupReceipt(receipt), receipt.measurement, enclaveSig);
        uint64 total;
        for (uint256 i = 0; i < n; ++i) {
            ReceiptPart calldata part = receipt.parts[i];
            for (uint256 j = 0; j < i; ++j) {
                if (receipt.parts[j].licenceId == part.licenceId) revert ComputeLedgerDuplicateLicence(part.licenceId);
            }
            // Each part spends its own licence; a revert in any part undoes the parts before it (R67).
            bytes32 contentHash = _market.consumeLicence(part.licenceId, jobId, part.epsilonSpentMilli);
            if (contentHash != part.contentHash) {
                revert ComputeLedgerContentMismatch(part.licenceId, contentHash, part.contentHash);
            }
            total += part.epsilonSpentMilli;
            emit JobPartRecorded(jobId, part.licenceId, i, part.contentHash, part.epsilonSpentMilli);
        }
        record.recordedAt = uint64(block.timestamp);
        record.epsilonSpentMilli = total;
        emit GroupJobRecorded(jobId, signer, receipt.queryHash, receipt.resultHash, receipt.measurement, n);
    }

    /// @inheritdoc IComputeLedger
    function commitPsi(bytes32 sessionId, bytes32 transcriptHash, uint64 intersectionSize)
        external
        whenNotPaused
        onlyRole(RELAYER_ROLE)
    {
        if (sessionId == bytes32(0) || transcriptHash == bytes32(0)) revert ComputeLedgerZeroPsiCommitment();
        PsiCommitment storage c = _psi[sessionId];
        if (c.transcriptHash != bytes32(0)) revert ComputeLedgerPsiAlreadyCommitted(sessionId);
        c.transcriptHash = transcriptHash;
        c.intersectionSize = intersectionSize;
        c.committedAt = uint64(block.timestamp);
        emit PsiCommitted(sessionId, transcriptHash, intersectionSize);
    }

    /// @inheritdoc IComputeLedger
    function job(bytes32 jobId) external view returns (JobRecord memory) {
        return _jobs[jobId];
    }

    /// @inheritdoc IComputeLedger
    function isJobRecorded(bytes32 jobId) external view returns (bool) {
        return _jobs[jobId].recordedAt != 0;
    }

    /// @inheritdoc IComputeLedger
    function psiCommitment(bytes32 sessionId) external view returns (PsiCommitment memory) {
        return _psi[sessionId];
    }

    /// @inheritdoc IComputeLedger
    function hashReceipt(JobReceipt calldata receipt) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(JOB_RECEIPT_TYPEHASH, receipt)));
    }

    /// @inheritdoc IComputeLedger
    function hashGroupReceipt(GroupReceipt calldata receipt) public view returns (bytes32) {
        uint256 n = receipt.parts.length;
        bytes32[] memory parts = new bytes32[](n);
        for (uint256 i = 0; i < n; ++i) {
            parts[i] = keccak256(abi.encode(RECEIPT_PART_TYPEHASH, receipt.parts[i]));
        }
        // EIP-712: an array is encoded as keccak256 of its elements' hashStructs, concatenated.
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    GROUP_RECEIPT_TYPEHASH,
                    receipt.jobId,
                    receipt.queryHash,
                    receipt.resultHash,
                    receipt.measurement,
                    keccak256(abi.encodePacked(parts))
                )
            )
        );
    }

    /// @dev The signer of `digest`, once it is a registered enclave whose approved measurement is `claimed`.
    function _verifiedEnclave(bytes32 digest, bytes32 claimed, bytes calldata enclaveSig)
        private
        view
        returns (address signer)
    {
        ECDSA.RecoverError err;
        (signer, err,) = ECDSA.tryRecoverCalldata(digest, enclaveSig);
        if (err != ECDSA.RecoverError.NoError) revert ComputeLedgerInvalidSignature();
        (bytes32 measurement, bool approved) = _registry.enclaveStatus(signer);
        if (measurement == bytes32(0)) revert ComputeLedgerUnknownEnclave(signer);
        if (measurement != claimed) {
            revert ComputeLedgerMeasurementMismatch(signer, measurement, claimed);
        }
        if (!approved) revert ComputeLedgerMeasurementNotApproved(measurement);
    }

    /// @inheritdoc IComputeLedger
    function market() external view returns (address) {
        return address(_market);
    }

    /// @inheritdoc IComputeLedger
    function registry() external view returns (address) {
        return address(_registry);
    }
}
