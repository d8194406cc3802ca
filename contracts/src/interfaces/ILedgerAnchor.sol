// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title ILedgerAnchor
/// @notice Anchors the Merkle root of the marketplace's event ledger (R24 "ledger", R38–R39): the
/// worker's `GET /api/audit/export` lists every event up to `toBlock` and ends with the RFC 6962
/// SHA-256 root of those lines; anchoring that root makes a later rewrite of the export detectable by
/// anyone holding the chain. The contract stores roots only; it cannot check them.
interface ILedgerAnchor {
    /// @notice An anchored root.
    struct Anchor {
        bytes32 merkleRoot;
        uint64 leafCount;
        uint64 toBlock;
        uint64 anchoredAt;
    }

    /// @notice A zero root was given.
    error LedgerAnchorZeroRoot();
    /// @notice Roots must cover strictly later blocks: `toBlock` is not after the previous anchor's `previousToBlock`.
    error LedgerAnchorNotAfterPrevious(uint64 toBlock, uint64 previousToBlock);
    /// @notice `toBlock` is not before the current block, so the ledger up to it cannot be final yet.
    error LedgerAnchorFutureBlock(uint64 toBlock, uint256 blockNumber);
    /// @notice Anchor `anchorId` does not exist.
    error LedgerAnchorUnknownAnchor(uint256 anchorId);

    /// @notice `by` anchored `merkleRoot` over the first `leafCount` ledger lines, covering blocks up to `toBlock`.
    event RootAnchored(
        uint256 indexed anchorId, bytes32 merkleRoot, uint64 leafCount, uint64 toBlock, address indexed by
    );

    /// @notice Anchors a ledger root. Relayer only (bookkeeping, R21).
    /// @param merkleRoot RFC 6962 SHA-256 Merkle root of the export's event lines.
    /// @param leafCount Number of event lines under the root.
    /// @param toBlock The last block the export covers; must be after the previous anchor's and in the past.
    /// @return anchorId The anchor's id, starting at 1.
    function anchor(bytes32 merkleRoot, uint64 leafCount, uint64 toBlock) external returns (uint256 anchorId);

    /// @notice Anchor `anchorId`; reverts when it does not exist.
    function anchorOf(uint256 anchorId) external view returns (Anchor memory);

    /// @notice Number of anchors so far (the latest anchor id).
    function anchorCount() external view returns (uint256);
}
