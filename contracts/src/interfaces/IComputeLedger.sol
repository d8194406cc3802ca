// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IComputeLedger
/// @notice Ties every job to an on-chain receipt (R16–R19, R58): an enclave-signed `JobReceipt` is
/// verified, the licence's quota and ε budget are spent, and the job is recorded once. Also anchors
/// private-set-intersection transcripts (R55).
interface IComputeLedger {
    /// @notice The enclave-signed record of a job, EIP-712 type
    /// `JobReceipt(bytes32 jobId,uint256 licenceId,bytes32 contentHash,bytes32 queryHash,bytes32 resultHash,uint64 epsilonSpentMilli,bytes32 measurement)`
    /// under the domain `{ name: "Stillflow ComputeLedger", version: "1", chainId, verifyingContract: this }`.
    struct JobReceipt {
        bytes32 jobId;
        uint256 licenceId;
        bytes32 contentHash;
        bytes32 queryHash;
        bytes32 resultHash;
        uint64 epsilonSpentMilli;
        bytes32 measurement;
    }

    /// @notice One licence's share of a job across assets (R67): its asset and the ε it is charged.
    /// EIP-712 type `ReceiptPart(uint256 licenceId,bytes32 contentHash,uint64 epsilonSpentMilli)`.
    struct ReceiptPart {
        uint256 licenceId;
        bytes32 contentHash;
        uint64 epsilonSpentMilli;
    }

    /// @notice The enclave-signed record of a job across several licensed assets, EIP-712 type
    /// `GroupReceipt(bytes32 jobId,bytes32 queryHash,bytes32 resultHash,bytes32 measurement,ReceiptPart[] parts)ReceiptPart(uint256 licenceId,bytes32 contentHash,uint64 epsilonSpentMilli)`
    /// under the same domain as `JobReceipt`. One signature covers every part, so no part can be recorded
    /// (and charged) without the others.
    struct GroupReceipt {
        bytes32 jobId;
        bytes32 queryHash;
        bytes32 resultHash;
        bytes32 measurement;
        ReceiptPart[] parts;
    }

    /// @notice What the ledger keeps per recorded job (the rest is in the `JobRecorded` event). For a group
    /// job `licenceId` is 0 and `epsilonSpentMilli` the sum over its parts (each part is a `JobPartRecorded`).
    struct JobRecord {
        uint64 licenceId;
        uint64 recordedAt;
        uint64 epsilonSpentMilli;
    }

    /// @notice A PSI session's committed transcript.
    struct PsiCommitment {
        bytes32 transcriptHash;
        uint64 intersectionSize;
        uint64 committedAt;
    }

    /// @notice Job `jobId` was recorded before (replay).
    error ComputeLedgerJobAlreadyRecorded(bytes32 jobId);
    /// @notice The job id is zero.
    error ComputeLedgerZeroJobId();
    /// @notice The enclave signature is malformed (wrong length, high s, or unrecoverable).
    error ComputeLedgerInvalidSignature();
    /// @notice The receipt's signer `signer` is not a registered enclave (also what a forged or tampered receipt gives).
    error ComputeLedgerUnknownEnclave(address signer);
    /// @notice `signer` is registered with `registered`, but the receipt claims `claimed`.
    error ComputeLedgerMeasurementMismatch(address signer, bytes32 registered, bytes32 claimed);
    /// @notice The enclave's measurement is no longer approved.
    error ComputeLedgerMeasurementNotApproved(bytes32 measurement);
    /// @notice The receipt's content hash `claimed` is not licence `licenceId`'s asset (`expected`).
    error ComputeLedgerContentMismatch(uint256 licenceId, bytes32 expected, bytes32 claimed);
    /// @notice A group receipt has `count` parts; it needs 2 to `max`.
    error ComputeLedgerGroupSize(uint256 count, uint256 max);
    /// @notice Licence `licenceId` appears in more than one part of a group receipt.
    error ComputeLedgerDuplicateLicence(uint256 licenceId);
    /// @notice PSI session `sessionId` was committed before.
    error ComputeLedgerPsiAlreadyCommitted(bytes32 sessionId);
    /// @notice A zero session id or transcript hash was given.
    error ComputeLedgerZeroPsiCommitment();

    /// @notice Job `jobId` under `licenceId` ran in enclave `enclave` (code `measurement`) over `contentHash`
    /// and was recorded: query `queryHash`, result `resultHash`, `epsilonSpentMilli` milli-ε spent.
    event JobRecorded(
        bytes32 indexed jobId,
        uint256 indexed licenceId,
        address indexed enclave,
        bytes32 contentHash,
        bytes32 queryHash,
        bytes32 resultHash,
        uint64 epsilonSpentMilli,
        bytes32 measurement
    );
    /// @notice Group job `jobId` over `partCount` licensed assets ran in enclave `enclave` (code `measurement`)
    /// and was recorded with query `queryHash` and result `resultHash`; each part is a `JobPartRecorded` (R67).
    event GroupJobRecorded(
        bytes32 indexed jobId,
        address indexed enclave,
        bytes32 queryHash,
        bytes32 resultHash,
        bytes32 measurement,
        uint256 partCount
    );
    /// @notice Part `part` of group job `jobId` was charged to licence `licenceId` over `contentHash`:
    /// one job of its quota and `epsilonSpentMilli` milli-ε (the part's receipt).
    event JobPartRecorded(
        bytes32 indexed jobId, uint256 indexed licenceId, uint256 part, bytes32 contentHash, uint64 epsilonSpentMilli
    );
    /// @notice The relayer anchored PSI session `sessionId`: transcript hash and intersection size (R55).
    event PsiCommitted(bytes32 indexed sessionId, bytes32 transcriptHash, uint64 intersectionSize);

    /// @notice EIP-712 type hash of `JobReceipt`.
    function JOB_RECEIPT_TYPEHASH() external view returns (bytes32);

    /// @notice Records an enclave-signed receipt. Anyone may submit (normally the relayer): the enclave
    /// signature is the authority. Checks the signer is registered with `receipt.measurement` and that it is
    /// still approved, the job id is new, and — through the market — the licence is live with a job and
    /// `epsilonSpentMilli` left and the asset is `receipt.contentHash`; then spends them.
    function recordReceipt(JobReceipt calldata receipt, bytes calldata enclaveSig) external;
    /// @notice EIP-712 type hash of `GroupReceipt`.
    function GROUP_RECEIPT_TYPEHASH() external view returns (bytes32);
    /// @notice EIP-712 type hash of `ReceiptPart`.
    function RECEIPT_PART_TYPEHASH() external view returns (bytes32);
    /// @notice Most parts one group receipt may have.
    function MAX_GROUP_PARTS() external view returns (uint256);
    /// @notice Records an enclave-signed receipt of a job across assets (R67), all parts or none: the same
    /// checks as `recordReceipt` once for the signature and for every part (licence live with a job and the
    /// part's ε left, asset is the part's content hash), distinct licences, 2 to `MAX_GROUP_PARTS` parts;
    /// any failing part reverts the whole call, so no licence is charged for a job that is not recorded.
    function recordGroupReceipt(GroupReceipt calldata receipt, bytes calldata enclaveSig) external;
    /// @notice Anchors a PSI session transcript. Relayer only; once per session.
    function commitPsi(bytes32 sessionId, bytes32 transcriptHash, uint64 intersectionSize) external;

    /// @notice The record of job `jobId` (all zero when not recorded).
    function job(bytes32 jobId) external view returns (JobRecord memory);
    /// @notice True when job `jobId` has been recorded.
    function isJobRecorded(bytes32 jobId) external view returns (bool);
    /// @notice The PSI commitment of `sessionId` (all zero when none).
    function psiCommitment(bytes32 sessionId) external view returns (PsiCommitment memory);
    /// @notice The EIP-712 digest an enclave signs for `receipt`.
    function hashReceipt(JobReceipt calldata receipt) external view returns (bytes32);
    /// @notice The EIP-712 digest an enclave signs for a group receipt.
    function hashGroupReceipt(GroupReceipt calldata receipt) external view returns (bytes32);
    /// @notice The DataMarket whose licences this ledger spends.
    function market() external view returns (address);
    /// @notice The EnclaveRegistry that vouches for receipt signers.
    function registry() external view returns (address);
}
