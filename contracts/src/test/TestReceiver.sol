// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC721Receiver} from "@openzeppelin/contracts/token/ERC721/IERC721Receiver.sol";

/// @title TestReceiver — TEST ONLY
/// @notice A contract that accepts ERC-721 tokens when `accept` is true and refuses them otherwise,
/// and that can refuse native payments, for the safe-transfer and pull-payment tests.
contract TestReceiver is IERC721Receiver {
    bool public accept;
    bool public acceptEther;

    constructor(bool accept_, bool acceptEther_) {
        accept = accept_;
        acceptEther = acceptEther_;
    }

    /// @notice ERC-721 receiver hook: returns the selector only when accepting.
    function onERC721Received(address, address, uint256, bytes calldata) external view returns (bytes4) {
        return accept ? IERC721Receiver.onERC721Received.selector : bytes4(0xdeadbeef);
    }

    /// @notice Calls `target` with `data` (to act as a buyer or a withdrawer), forwarding `msg.value`.
    function execute(address target, bytes calldata data) external payable returns (bytes memory) {
        (bool ok, bytes memory ret) = target.call{value: msg.value}(data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 32), mload(ret))
            }
        }
        return ret;
    }

    receive() external payable {
        require(acceptEther, "TestReceiver: refuses ether");
    }
}
