// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {ERC2981} from "@openzeppelin/contracts/token/common/ERC2981.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {IERC4906} from "@openzeppelin/contracts/interfaces/IERC4906.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {StillflowRoles} from "./base/StillflowRoles.sol";
import {IDataAssetNFT} from "./interfaces/IDataAssetNFT.sol";

/// @title DataAssetNFT
/// @notice One ERC-721 token per dataset (R1, R2): the owner's rights stamp. Holds each asset's content
/// hash, mint time, correction count, revocation and freeze flags, delegate and royalty, and the base of
/// token URIs. Metadata digests are anchored in the owner's signature and in events (`AssetMinted`,
/// `AssetAmended`), not in storage: a mint writes two slots beyond ERC-721's own (see contracts/README.md).
contract DataAssetNFT is ERC721, ERC2981, EIP712, StillflowRoles, IERC4906, IDataAssetNFT {
    /// @inheritdoc IDataAssetNFT
    bytes32 public constant PUBLISH_TYPEHASH =
        keccak256("Publish(address owner,bytes32 contentHash,bytes32 metadataDigest,uint256 deadline)");

    /// @dev Per content hash, one slot: the token id doubles as the "already minted" mark (R2).
    struct Record {
        uint64 tokenId;
        uint64 mintedAt;
        uint64 amendments;
        bool revoked;
        bool frozen;
        // Times the token changed hands after its mint (same slot: 26 + 4 of 32 bytes). An offer records it
        // and sells only while it is unchanged, so offers set before a transfer never sell again, even when
        // the token comes back to the account that set them (IDataMarket.Offer.tenure).
        uint32 transfers;
    }

    mapping(bytes32 contentHash => Record) private _records;
    mapping(uint256 tokenId => bytes32) private _contentOf;
    mapping(uint256 tokenId => address) private _delegates;
    uint256 private _lastTokenId;
    string private _baseTokenURI;

    /// @param admin Governance account (grants roles, pauses and unpauses).
    /// @param relayer The operator's bookkeeping key.
    /// @param supervisor The supervisor key (freezes assets).
    /// @param baseTokenURI_ Prefix of every token URI (token URI = prefix + decimal token id); may be empty.
    constructor(address admin, address relayer, address supervisor, string memory baseTokenURI_)
        ERC721("Stillflow Data Asset", "SFDATA")
        EIP712("Stillflow DataAssetNFT", "1")
        StillflowRoles(admin, relayer, supervisor)
    {
        _baseTokenURI = baseTokenURI_;
        emit BaseTokenURISet(baseTokenURI_);
    }

    /// @inheritdoc IDataAssetNFT
    function mintWithSignature(
        address owner,
        bytes32 contentHash,
        bytes32 metadataDigest,
        uint256 deadline,
        bytes calldata signature
    ) external whenNotPaused returns (uint256 tokenId) {
        if (block.timestamp > deadline) revert DataAssetNFTSignatureExpired(deadline, block.timestamp);
        if (contentHash == bytes32(0) || metadataDigest == bytes32(0)) revert DataAssetNFTZeroHash();
        Record storage rec = _records[contentHash];
        if (rec.tokenId != 0) revert DataAssetNFTContentAlreadyMinted(contentHash, rec.tokenId);
        bytes32 digest =
            _hashTypedDataV4(keccak256(abi.encode(PUBLISH_TYPEHASH, owner, contentHash, metadataDigest, deadline)));
        if (!SignatureChecker.isValidSignatureNowCalldata(owner, digest, signature)) {
            revert DataAssetNFTInvalidSignature(owner);
        }
        tokenId = ++_lastTokenId;
        rec.tokenId = uint64(tokenId);
        rec.mintedAt = uint64(block.timestamp);
        _contentOf[tokenId] = contentHash;
        _safeMint(owner, tokenId);
        emit AssetMinted(tokenId, owner, contentHash, metadataDigest, msg.sender);
    }

    /// @inheritdoc IDataAssetNFT
    function amend(uint256 tokenId, bytes32 metadataDigest, string calldata reason) external {
        if (!isAssetManager(tokenId, msg.sender)) revert DataAssetNFTNotManager(tokenId, msg.sender);
        if (metadataDigest == bytes32(0)) revert DataAssetNFTZeroHash();
        Record storage rec = _records[_contentOf[tokenId]];
        uint64 index = ++rec.amendments;
        emit AssetAmended(tokenId, msg.sender, index, metadataDigest, reason);
        emit MetadataUpdate(tokenId);
    }

    /// @inheritdoc IDataAssetNFT
    function revoke(uint256 tokenId) external {
        _checkOwner(tokenId);
        Record storage rec = _records[_contentOf[tokenId]];
        if (rec.revoked) revert DataAssetNFTAssetRevoked(tokenId);
        rec.revoked = true;
        emit AssetRevoked(tokenId, msg.sender);
        emit MetadataUpdate(tokenId);
    }

    /// @inheritdoc IDataAssetNFT
    function freeze(uint256 tokenId, bytes32 reasonCode) external onlyRole(SUPERVISOR_ROLE) {
        Record storage rec = _existingRecord(tokenId);
        if (rec.frozen) revert DataAssetNFTAssetFrozen(tokenId);
        rec.frozen = true;
        emit AssetFrozen(tokenId, msg.sender, reasonCode);
        emit MetadataUpdate(tokenId);
    }

    /// @inheritdoc IDataAssetNFT
    function unfreeze(uint256 tokenId) external onlyRole(SUPERVISOR_ROLE) {
        Record storage rec = _existingRecord(tokenId);
        if (!rec.frozen) revert DataAssetNFTAssetNotFrozen(tokenId);
        rec.frozen = false;
        emit AssetUnfrozen(tokenId, msg.sender);
        emit MetadataUpdate(tokenId);
    }

    /// @inheritdoc IDataAssetNFT
    function setDelegate(uint256 tokenId, address delegate) external {
        _checkOwner(tokenId);
        _delegates[tokenId] = delegate;
        emit AssetDelegateSet(tokenId, msg.sender, delegate);
    }

    /// @inheritdoc IDataAssetNFT
    function setRoyalty(uint256 tokenId, address receiver, uint96 feeBps) external {
        _checkOwner(tokenId);
        _setTokenRoyalty(tokenId, receiver, feeBps);
        emit AssetRoyaltySet(tokenId, receiver, feeBps);
    }

    /// @inheritdoc IDataAssetNFT
    function assetInfo(uint256 tokenId)
        external
        view
        returns (address owner, bytes32 contentHash, bool revoked, bool frozen, uint32 transfers)
    {
        owner = _ownerOf(tokenId);
        if (owner == address(0)) revert DataAssetNFTNonexistentToken(tokenId);
        contentHash = _contentOf[tokenId];
        Record storage rec = _records[contentHash];
        return (owner, contentHash, rec.revoked, rec.frozen, rec.transfers);
    }

    /// @inheritdoc IDataAssetNFT
    function tokenIdOfContent(bytes32 contentHash) external view returns (uint256) {
        return _records[contentHash].tokenId;
    }

    /// @inheritdoc IDataAssetNFT
    function amendmentCount(uint256 tokenId) external view returns (uint256) {
        return _existingRecord(tokenId).amendments;
    }

    /// @inheritdoc IDataAssetNFT
    function delegateOf(uint256 tokenId) external view returns (address) {
        return _delegates[tokenId];
    }

    /// @inheritdoc IDataAssetNFT
    function isAssetManager(uint256 tokenId, address account) public view returns (bool) {
        address owner = _ownerOf(tokenId);
        if (owner == address(0)) revert DataAssetNFTNonexistentToken(tokenId);
        return account == owner || (account != address(0) && account == _delegates[tokenId]);
    }

    /// @inheritdoc IDataAssetNFT
    function totalMinted() external view returns (uint256) {
        return _lastTokenId;
    }

    /// @inheritdoc IDataAssetNFT
    function setBaseTokenURI(string calldata baseTokenURI_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _baseTokenURI = baseTokenURI_;
        emit BaseTokenURISet(baseTokenURI_);
        if (_lastTokenId != 0) emit BatchMetadataUpdate(1, _lastTokenId);
    }

    /// @inheritdoc IDataAssetNFT
    function assetStatus(uint256 tokenId) external view returns (bytes32 contentHash, bool revoked, bool frozen) {
        contentHash = _contentOf[tokenId];
        if (contentHash == bytes32(0)) revert DataAssetNFTNonexistentToken(tokenId);
        Record storage rec = _records[contentHash];
        return (contentHash, rec.revoked, rec.frozen);
    }

    /// @inheritdoc IDataAssetNFT
    function mintedAt(uint256 tokenId) external view returns (uint256) {
        return _existingRecord(tokenId).mintedAt;
    }

    /// @dev ERC-721 metadata: token URI = base + decimal token id (empty base: empty URI).
    function _baseURI() internal view override returns (string memory) {
        return _baseTokenURI;
    }

    /// @notice ERC-165: ERC-721, ERC-721 Metadata, ERC-2981, ERC-4906, AccessControl.
    function supportsInterface(bytes4 interfaceId)
        public
        view
        override(ERC721, ERC2981, AccessControl, IERC165)
        returns (bool)
    {
        return interfaceId == bytes4(0x49064906) || ERC721.supportsInterface(interfaceId)
            || ERC2981.supportsInterface(interfaceId) || AccessControl.supportsInterface(interfaceId);
    }

    /// @dev The one transfer hook: a transfer (not a mint) wipes the asset's delegate and counts as a
    /// change of hands, which retires every offer set before it (DataMarket checks `transfers`).
    function _update(address to, uint256 tokenId, address auth) internal override returns (address from) {
        from = super._update(to, tokenId, auth);
        if (from == address(0)) return from;
        // A self-transfer counts too: it is rare, costs the sender only their own offers, and keeps the rule
        // "any Transfer event retires the offers before it" simple for indexers.
        ++_records[_contentOf[tokenId]].transfers;
        if (_delegates[tokenId] != address(0)) {
            delete _delegates[tokenId];
            emit AssetDelegateSet(tokenId, to, address(0));
        }
    }

    function _checkOwner(uint256 tokenId) private view {
        address owner = _ownerOf(tokenId);
        if (owner == address(0)) revert DataAssetNFTNonexistentToken(tokenId);
        if (owner != msg.sender) revert DataAssetNFTNotOwner(tokenId, msg.sender);
    }

    function _existingRecord(uint256 tokenId) private view returns (Record storage) {
        if (_ownerOf(tokenId) == address(0)) revert DataAssetNFTNonexistentToken(tokenId);
        return _records[_contentOf[tokenId]];
    }
}
