// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IPsiComparator
/// @notice The comparator C of the slides as a contract, for small sets (R55, R61): two parties, each
/// by its own transaction, open a session and submit their doubly-blinded lists (U from A, V from B);
/// the contract compares them and records, per party, which positions of *its own* list matched, the
/// intersection size and the transcript hash. Everything here is public: positions are in each party's
/// secret shuffled order, so only their owner can map them to items; the intersection size is public.
interface IPsiComparator {
    /// @notice One session. `commitU`/`commitV` are keccak256 of the packed lists once submitted.
    struct Session {
        address partyA;
        address partyB;
        uint64 expiresAt;
        uint32 maxElements;
        bool accepted;
        bool compared;
        uint32 countU;
        uint32 countV;
        uint32 intersectionSize;
        bytes32 commitU;
        bytes32 commitV;
        bytes32 transcriptHash;
    }

    /// @notice Session `sessionId` exists already (a session id is used once: no replay).
    error PsiComparatorSessionExists(bytes32 sessionId);
    /// @notice No session `sessionId`.
    error PsiComparatorUnknownSession(bytes32 sessionId);
    /// @notice `caller` may not do this in session `sessionId`.
    error PsiComparatorNotParty(bytes32 sessionId, address caller);
    /// @notice The session's parties, expiry or size limit are invalid.
    error PsiComparatorInvalidSession(bytes32 sessionId);
    /// @notice Session `sessionId` expired at `expiresAt`.
    error PsiComparatorExpired(bytes32 sessionId, uint64 expiresAt);
    /// @notice Party B has not accepted session `sessionId`.
    error PsiComparatorNotAccepted(bytes32 sessionId);
    /// @notice `count` elements exceed the session's limit `max`.
    error PsiComparatorTooManyElements(uint256 count, uint256 max);
    /// @notice `party` has submitted its list in session `sessionId` already.
    error PsiComparatorAlreadySubmitted(bytes32 sessionId, address party);
    /// @notice The lists given to `compare` are not the ones submitted, or one is missing.
    error PsiComparatorListMismatch(bytes32 sessionId);
    /// @notice Session `sessionId` was compared already.
    error PsiComparatorAlreadyCompared(bytes32 sessionId);

    /// @notice Party A opened session `sessionId` with party B.
    event PsiSessionOpened(
        bytes32 indexed sessionId, address indexed partyA, address indexed partyB, uint32 maxElements, uint64 expiresAt
    );
    /// @notice Party B accepted session `sessionId`.
    event PsiSessionAccepted(bytes32 indexed sessionId, address indexed partyB);
    /// @notice `party` submitted its doubly-blinded list `values` (A: U, B: V).
    event PsiListSubmitted(bytes32 indexed sessionId, address indexed party, bytes32[] values);
    /// @notice Session `sessionId` was compared: its transcript hash and intersection size.
    event PsiCompared(bytes32 indexed sessionId, bytes32 transcriptHash, uint32 intersectionSize);

    /// @notice Largest list a session may have.
    function MAX_ELEMENTS() external view returns (uint32);
    /// @notice Opens a session; the caller is party A, which consents by sending this transaction.
    function open(bytes32 sessionId, address partyB, uint32 maxElements, uint64 expiresAt) external;
    /// @notice Party B consents to session `sessionId`.
    function accept(bytes32 sessionId) external;
    /// @notice The caller (A: U = X·T, B: V = Y·S) submits its list; emitted in full for the comparison.
    function submit(bytes32 sessionId, bytes32[] calldata values) external;
    /// @notice Compares the two submitted lists (given again as calldata and checked against their
    /// commitments). Either party may call it, once, before expiry.
    function compare(bytes32 sessionId, bytes32[] calldata u, bytes32[] calldata v) external;
    /// @notice The session record.
    function session(bytes32 sessionId) external view returns (Session memory);
    /// @notice Bitmap of matched positions: for A, positions in V (A's list); for B, positions in U.
    function matches(bytes32 sessionId, address party) external view returns (uint256[] memory);
}
