// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IStillflowRoles} from "../interfaces/IStillflowRoles.sol";

/// @title StillflowRoles
/// @notice Shared roles and pause for Stillflow contracts: admin, relayer and supervisor, with the
/// rule that relayer and supervisor never meet on one account (R21–R22), and a logged pause (R25).
abstract contract StillflowRoles is AccessControl, IStillflowRoles {
    /// @inheritdoc IStillflowRoles
    bytes32 public constant RELAYER_ROLE = keccak256("RELAYER_ROLE");
    /// @inheritdoc IStillflowRoles
    bytes32 public constant SUPERVISOR_ROLE = keccak256("SUPERVISOR_ROLE");

    bool private _paused;

    constructor(address admin, address relayer, address supervisor) {
        if (admin == address(0)) revert StillflowRolesZeroAccount(DEFAULT_ADMIN_ROLE);
        if (relayer == address(0)) revert StillflowRolesZeroAccount(RELAYER_ROLE);
        if (supervisor == address(0)) revert StillflowRolesZeroAccount(SUPERVISOR_ROLE);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(RELAYER_ROLE, relayer);
        _grantRole(SUPERVISOR_ROLE, supervisor);
    }

    modifier whenNotPaused() {
        if (_paused) revert StillflowRolesEnforcedPause();
        _;
    }

    /// @inheritdoc IStillflowRoles
    function paused() public view returns (bool) {
        return _paused;
    }

    /// @inheritdoc IStillflowRoles
    function pause() external {
        if (!hasRole(DEFAULT_ADMIN_ROLE, msg.sender) && !hasRole(SUPERVISOR_ROLE, msg.sender)) {
            revert StillflowRolesUnauthorizedPauser(msg.sender);
        }
        if (_paused) revert StillflowRolesEnforcedPause();
        _paused = true;
        emit Paused(msg.sender);
    }

    /// @inheritdoc IStillflowRoles
    function unpause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (!_paused) revert StillflowRolesExpectedPause();
        _paused = false;
        emit Unpaused(msg.sender);
    }

    /// @dev The one place roles are granted: refuses to give bookkeeping and supervision to one account.
    function _grantRole(bytes32 role, address account) internal virtual override returns (bool) {
        if (role == RELAYER_ROLE && hasRole(SUPERVISOR_ROLE, account)) {
            revert StillflowRolesConflict(account, role, SUPERVISOR_ROLE);
        }
        if (role == SUPERVISOR_ROLE && hasRole(RELAYER_ROLE, account)) {
            revert StillflowRolesConflict(account, role, RELAYER_ROLE);
        }
        return super._grantRole(role, account);
    }
}
