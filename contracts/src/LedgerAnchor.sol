// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {StillflowRoles} from "./base/StillflowRoles.sol";
import {ILedgerAnchor} from "./interfaces/ILedgerAnchor.sol";

/// @title LedgerAnchor
/// @notice Append-only list of ledger roots (R47), written by the relayer, readable by anyone.
contract LedgerAnchor is StillflowRoles, ILedgerAnchor {
    Anchor[] private _anchors;

    constructor(address admin, address relayer, address supervisor) StillflowRoles(admin, relayer, supervisor) {}

    /// @inheritdoc ILedgerAnchor
    function anchor(bytes32 merkleRoot, uint64 leafCount, uint64 toBlock)
        external
        whenNotPaused
        onlyRole(RELAYER_ROLE)
        returns (uint256 anchorId)
    {
        if (merkleRoot == bytes32(0)) revert LedgerAnchorZeroRoot();
        if (toBlock >= block.number) revert LedgerAnchorFutureBlock(toBlock, block.number);
        uint256 n = _anchors.length;
        if (n != 0 && toBlock <= _anchors[n - 1].toBlock) {
            revert LedgerAnchorNotAfterPrevious(toBlock, _anchors[n - 1].toBlock);
        }
        _anchors.push(Anchor(merkleRoot, leafCount, toBlock, uint64(block.timestamp)));
        anchorId = n + 1;
        emit RootAnchored(anchorId, merkleRoot, leafCount, toBlock, msg.sender);
    }

    /// @inheritdoc ILedgerAnchor
    function anchorOf(uint256 anchorId) external view returns (Anchor memory) {
        if (anchorId == 0 || anchorId > _anchors.length) revert LedgerAnchorUnknownAnchor(anchorId);
        return _anchors[anchorId - 1];
    }

    /// @inheritdoc ILedgerAnchor
    function anchorCount() external view returns (uint256) {
        return _anchors.length;
    }
}
