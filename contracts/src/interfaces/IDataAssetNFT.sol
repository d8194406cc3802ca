// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IDataAssetNFT
/// @notice Rights confirmation for datasets (R1): one ERC-721 token per content hash (R2), minted only
/// with the owner's EIP-712 `Publish` signature, with append-only metadata corrections (R27), owner
/// revocation (R70) and supervisor freeze. ERC-721, ERC-2981 and ERC-4906 come on top of this.
interface IDataAssetNFT {
    /// @notice The `Publish` signature's deadline has passed.
    error DataAssetNFTSignatureExpired(uint256 deadline, uint256 timestamp);
    /// @notice The signature is not `owner`'s signature of this `Publish` message (EOA or ERC-1271).
    error DataAssetNFTInvalidSignature(address owner);
    /// @notice The content hash is already the asset `tokenId` (R2).
    error DataAssetNFTContentAlreadyMinted(bytes32 contentHash, uint256 tokenId);
    /// @notice A content hash or metadata digest of zero was given.
    error DataAssetNFTZeroHash();
    /// @notice No token `tokenId` exists.
    error DataAssetNFTNonexistentToken(uint256 tokenId);
    /// @notice `account` is not the owner of `tokenId`.
    error DataAssetNFTNotOwner(uint256 tokenId, address account);
    /// @notice `account` is neither the owner of `tokenId` nor its delegate.
    error DataAssetNFTNotManager(uint256 tokenId, address account);
    /// @notice The asset was revoked by its owner; revocation is final.
    error DataAssetNFTAssetRevoked(uint256 tokenId);
    /// @notice The asset is frozen.
    error DataAssetNFTAssetFrozen(uint256 tokenId);
    /// @notice The asset is not frozen.
    error DataAssetNFTAssetNotFrozen(uint256 tokenId);

    /// @notice Asset `tokenId` was minted to `owner` for `contentHash`; `metadataDigest` (the SHA-256 of the
    /// metadata JSON, signed by the owner) is anchored here. `relayer` submitted the owner's signature.
    event AssetMinted(
        uint256 indexed tokenId, address indexed owner, bytes32 indexed contentHash, bytes32 metadataDigest, address relayer
    );
    /// @notice Correction number `index` (1-based) to `tokenId`'s metadata was appended by `by` (R27).
    event AssetAmended(uint256 indexed tokenId, address indexed by, uint256 index, bytes32 metadataDigest, string reason);
    /// @notice The owner revoked `tokenId`: no licence is sold and no job runs from now on (R70).
    event AssetRevoked(uint256 indexed tokenId, address indexed owner);
    /// @notice A supervisor froze `tokenId` for `reasonCode`.
    event AssetFrozen(uint256 indexed tokenId, address indexed supervisor, bytes32 reasonCode);
    /// @notice A supervisor lifted the freeze on `tokenId`.
    event AssetUnfrozen(uint256 indexed tokenId, address indexed supervisor);
    /// @notice `owner` made `delegate` the manager of `tokenId` (zero: none). Also emitted when a transfer wipes it.
    event AssetDelegateSet(uint256 indexed tokenId, address indexed owner, address indexed delegate);
    /// @notice The admin set the prefix of token URIs (R25: parameter change, logged).
    event BaseTokenURISet(string baseTokenURI);
    /// @notice The owner set the ERC-2981 royalty of `tokenId`.
    event AssetRoyaltySet(uint256 indexed tokenId, address indexed receiver, uint96 feeBps);

    /// @notice EIP-712 type hash of
    /// `Publish(address owner,bytes32 contentHash,bytes32 metadataDigest,uint256 deadline)`.
    function PUBLISH_TYPEHASH() external view returns (bytes32);

    /// @notice Mints the asset for `contentHash` to `owner`. Anyone (normally the relayer) may submit,
    /// but only with `owner`'s EIP-712 `Publish` signature (EOA or ERC-1271 wallet).
    /// @param owner The data owner, who receives the token.
    /// @param contentHash SHA-256 of the plaintext dataset; unique across all assets (R2).
    /// @param metadataDigest SHA-256 of the metadata JSON (on IPFS); anchored in the `AssetMinted` event.
    /// @param deadline Unix time after which the signature is void.
    /// @param signature The owner's signature over the `Publish` message.
    /// @return tokenId The new token id (ids start at 1).
    function mintWithSignature(
        address owner,
        bytes32 contentHash,
        bytes32 metadataDigest,
        uint256 deadline,
        bytes calldata signature
    ) external returns (uint256 tokenId);

    /// @notice Appends a correction to the metadata of `tokenId` (R27): the new digest is anchored in an
    /// `AssetAmended` event (the latest one is current); nothing earlier is rewritten. Owner or delegate.
    function amend(uint256 tokenId, bytes32 metadataDigest, string calldata reason) external;

    /// @notice Revokes `tokenId` for good: no new licence, no further job. Owner only.
    function revoke(uint256 tokenId) external;

    /// @notice Freezes `tokenId`: it sells no licences and runs no jobs, and is neither moved nor burnt. Supervisor only.
    function freeze(uint256 tokenId, bytes32 reasonCode) external;

    /// @notice Lifts the freeze on `tokenId`. Supervisor only.
    function unfreeze(uint256 tokenId) external;

    /// @notice Makes `delegate` the manager of `tokenId` (lists offers, amends metadata); zero clears it.
    /// Owner only. A transfer wipes the delegate.
    function setDelegate(uint256 tokenId, address delegate) external;

    /// @notice Sets the ERC-2981 royalty of `tokenId` to `feeBps` basis points paid to `receiver`. Owner only.
    function setRoyalty(uint256 tokenId, address receiver, uint96 feeBps) external;

    /// @notice What the enclave and worker check before a job, and the market before a sale. `transfers` counts
    /// the times the token changed hands after its mint (an offer sells only while it is unchanged).
    /// Reverts for a nonexistent token.
    function assetInfo(uint256 tokenId)
        external
        view
        returns (address owner, bytes32 contentHash, bool revoked, bool frozen, uint32 transfers);

    /// @notice Content hash and flags of `tokenId` without its owner (one storage read fewer than `assetInfo`).
    /// Reverts for a nonexistent token.
    function assetStatus(uint256 tokenId) external view returns (bytes32 contentHash, bool revoked, bool frozen);

    /// @notice The token minted for `contentHash`, or 0 when none.
    function tokenIdOfContent(bytes32 contentHash) external view returns (uint256);

    /// @notice Block time at which `tokenId` was minted.
    function mintedAt(uint256 tokenId) external view returns (uint256);

    /// @notice How many corrections `tokenId` has had.
    function amendmentCount(uint256 tokenId) external view returns (uint256);

    /// @notice The delegate of `tokenId`, or zero.
    function delegateOf(uint256 tokenId) external view returns (address);

    /// @notice True when `account` is the owner or the delegate of `tokenId`.
    function isAssetManager(uint256 tokenId, address account) external view returns (bool);

    /// @notice Sets the prefix of token URIs (token URI = prefix + decimal id). Admin only.
    function setBaseTokenURI(string calldata baseTokenURI) external;

    /// @notice Number of tokens minted so far (the latest token id).
    function totalMinted() external view returns (uint256);
}
