// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IPsiComparator} from "./interfaces/IPsiComparator.sol";

/// @title PsiComparator
/// @notice The slides' comparator as a smart contract, for small sets. Holds no funds and has no roles:
/// each party's transaction is its consent, and the contract only ever sees doubly-blinded values.
contract PsiComparator is IPsiComparator {
    /// @inheritdoc IPsiComparator
    uint32 public constant MAX_ELEMENTS = 512;

    /// Same layout as the off-chain transcript (sdk/src/psi/comparator.ts): SHA-256 of the tag, the
    /// session id, and each list prefixed by its length as a big-endian uint32.
    bytes internal constant TRANSCRIPT_TAG = "Stillflow-PSI-transcript-v1";

    mapping(bytes32 sessionId => Session) private _sessions;
    mapping(bytes32 sessionId => mapping(address party => uint256[])) private _matches;

    /// @inheritdoc IPsiComparator
    function open(bytes32 sessionId, address partyB, uint32 maxElements, uint64 expiresAt) external {
        if (_sessions[sessionId].partyA != address(0)) revert PsiComparatorSessionExists(sessionId);
        if (
            sessionId == bytes32(0) || partyB == address(0) || partyB == msg.sender || maxElements == 0
                || maxElements > MAX_ELEMENTS || expiresAt <= block.timestamp
        ) revert PsiComparatorInvalidSession(sessionId);
        Session storage s = _sessions[sessionId];
        s.partyA = msg.sender;
        s.partyB = partyB;
        s.maxElements = maxElements;
        s.expiresAt = expiresAt;
        emit PsiSessionOpened(sessionId, msg.sender, partyB, maxElements, expiresAt);
    }

    /// @inheritdoc IPsiComparator
    function accept(bytes32 sessionId) external {
        Session storage s = _live(sessionId);
        if (msg.sender != s.partyB || s.accepted) revert PsiComparatorNotParty(sessionId, msg.sender);
        s.accepted = true;
        emit PsiSessionAccepted(sessionId, msg.sender);
    }

    /// @inheritdoc IPsiComparator
    function submit(bytes32 sessionId, bytes32[] calldata values) external {
        Session storage s = _live(sessionId);
        if (!s.accepted) revert PsiComparatorNotAccepted(sessionId);
        if (values.length > s.maxElements) revert PsiComparatorTooManyElements(values.length, s.maxElements);
        bytes32 commitment = keccak256(abi.encodePacked(values));
        if (msg.sender == s.partyA) {
            if (s.commitU != bytes32(0)) revert PsiComparatorAlreadySubmitted(sessionId, msg.sender);
            s.commitU = commitment;
            s.countU = uint32(values.length);
        } else if (msg.sender == s.partyB) {
            if (s.commitV != bytes32(0)) revert PsiComparatorAlreadySubmitted(sessionId, msg.sender);
            s.commitV = commitment;
            s.countV = uint32(values.length);
        } else {
            revert PsiComparatorNotParty(sessionId, msg.sender);
        }
        emit PsiListSubmitted(sessionId, msg.sender, values);
    }

    /// @inheritdoc IPsiComparator
    function compare(bytes32 sessionId, bytes32[] calldata u, bytes32[] calldata v) external {
        Session storage s = _live(sessionId);
        if (msg.sender != s.partyA && msg.sender != s.partyB) revert PsiComparatorNotParty(sessionId, msg.sender);
        if (s.compared) revert PsiComparatorAlreadyCompared(sessionId);
        if (
            s.commitU == bytes32(0) || s.commitV == bytes32(0) || keccak256(abi.encodePacked(u)) != s.commitU
                || keccak256(abi.encodePacked(v)) != s.commitV
        ) revert PsiComparatorListMismatch(sessionId);

        (uint256[] memory forA, uint256[] memory forB, uint32 found) = _match(u, v);
        _matches[sessionId][s.partyA] = forA;
        _matches[sessionId][s.partyB] = forB;
        bytes32 transcript = _transcript(sessionId, u, v);
        s.compared = true;
        s.intersectionSize = found;
        s.transcriptHash = transcript;
        emit PsiCompared(sessionId, transcript, found);
    }

    /// @inheritdoc IPsiComparator
    function session(bytes32 sessionId) external view returns (Session memory) {
        return _sessions[sessionId];
    }

    /// @inheritdoc IPsiComparator
    function matches(bytes32 sessionId, address party) external view returns (uint256[] memory) {
        return _matches[sessionId][party];
    }

    /// Open-addressing table of U in memory: O(|U| + |V|) instead of |U|·|V| comparisons. Returns
    /// bitmaps of matched positions in V (for A) and in U (for B), and their count.
    function _match(bytes32[] calldata u, bytes32[] calldata v)
        private
        pure
        returns (uint256[] memory forA, uint256[] memory forB, uint32 found)
    {
        uint256 size = 2;
        while (size < 2 * u.length) size <<= 1;
        bytes32[] memory keys = new bytes32[](size);
        uint256[] memory slots = new uint256[](size); // position + 1; 0 = empty
        for (uint256 j = 0; j < u.length; ++j) {
            uint256 h = uint256(u[j]) & (size - 1);
            while (slots[h] != 0 && keys[h] != u[j]) h = (h + 1) & (size - 1);
            if (slots[h] == 0) {
                keys[h] = u[j];
                slots[h] = j + 1;
            }
        }
        forA = new uint256[]((v.length + 255) / 256);
        forB = new uint256[]((u.length + 255) / 256);
        for (uint256 i = 0; i < v.length; ++i) {
            uint256 h = uint256(v[i]) & (size - 1);
            while (slots[h] != 0 && keys[h] != v[i]) h = (h + 1) & (size - 1);
            if (slots[h] == 0) continue;
            uint256 j = slots[h] - 1;
            forA[i >> 8] |= 1 << (i & 255);
            forB[j >> 8] |= 1 << (j & 255);
            ++found;
        }
    }

    function _transcript(bytes32 sessionId, bytes32[] calldata u, bytes32[] calldata v) private pure returns (bytes32) {
        return sha256(abi.encodePacked(TRANSCRIPT_TAG, sessionId, uint32(u.length), u, uint32(v.length), v));
    }

    function _live(bytes32 sessionId) private view returns (Session storage s) {
        s = _sessions[sessionId];
        if (s.partyA == address(0)) revert PsiComparatorUnknownSession(sessionId);
        if (block.timestamp >= s.expiresAt) revert PsiComparatorExpired(sessionId, s.expiresAt);
    }
}
