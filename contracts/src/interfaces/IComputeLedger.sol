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

    /// @notice What the ledger keeps per recorded job (the rest is in the `JobRecorded` event).
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
    /// @notice The relayer anchored PSI session `sessionId`: transcript hash and intersection size (R55).
    event PsiCommitted(bytes32 indexed sessionId, bytes32 transcriptHash, uint64 intersectionSize);

    /// @notice EIP-712 type hash of `JobReceipt`.
    function JOB_RECEIPT_TYPEHASH() external view returns (bytes32);

    /// @notice Records an enclave-signed receipt. Anyone may submit (normally the relayer): the enclave
    /// signature is the authority. Checks the signer is registered with `receipt.measurement` and that it is
    /// still approved, the job id is new, and — through the market — the licence is live with a job and
    /// `epsilonSpentMilli` left and the asset is `receipt.contentHash`; then spends them.
    function recordReceipt(JobReceipt calldata receipt, bytes calldata enclaveSig) external;
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
    /// @notice The DataMarket whose licences this ledger spends.
    function market() external view returns (address);
    /// @notice The EnclaveRegistry that vouches for receipt signers.
    function registry() external view returns (address);
}
