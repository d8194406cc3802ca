// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";

/// @title PlainERC721 — TEST ONLY
/// @notice Gas baseline for bench/contracts-gas.bench.ts: a plain OpenZeppelin ERC-721 whose mint is
/// one `_safeMint` of the next id. Never deployed outside tests and benchmarks.
contract PlainERC721 is ERC721 {
    uint256 private _lastTokenId;

    constructor() ERC721("Plain", "PLAIN") {}

    /// @notice Mints the next token id to `to` with `_safeMint`.
    function mint(address to) external returns (uint256 tokenId) {
        tokenId = ++_lastTokenId;
        _safeMint(to, tokenId);
    }
}
