// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title TestERC20 — TEST ONLY
/// @notice A freely mintable ERC-20 for the ERC-20 payment path in tests. Optionally skims a transfer
/// fee (`feeBps`) to model fee-on-transfer tokens the market must refuse. Never deploy outside tests.
contract TestERC20 is ERC20 {
    uint256 public feeBps;

    constructor() ERC20("Test Token", "TEST") {}

    /// @notice Mints `amount` to `to`; anyone may call (test only).
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Makes every transfer burn `bps` basis points of the amount (test only).
    function setFeeBps(uint256 bps) external {
        feeBps = bps;
    }

    function _update(address from, address to, uint256 value) internal override {
        if (feeBps != 0 && from != address(0) && to != address(0)) {
            uint256 fee = (value * feeBps) / 10_000;
            super._update(from, address(0), fee);
            value -= fee;
        }
        super._update(from, to, value);
    }
}
