// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title Stillflow roles and pause
/// @notice The three powers (R21–R22) and the pause switch (R25) every Stillflow contract shares:
/// admin (governance: grants roles, sets parameters, unpauses), relayer (bookkeeping: writes to
/// chain for the operator) and supervisor (supervision: approves enclave code, freezes assets).
/// No account may hold both the relayer and the supervisor role on the same contract.
interface IStillflowRoles {
    /// @notice `account` already holds `heldRole`, which may not be combined with `role` (R21–R22).
    error StillflowRolesConflict(address account, bytes32 role, bytes32 heldRole);
    /// @notice A constructor was given the zero address for a role.
    error StillflowRolesZeroAccount(bytes32 role);
    /// @notice `account` may not pause: only the admin or a supervisor may.
    error StillflowRolesUnauthorizedPauser(address account);
    /// @notice The contract is paused.
    error StillflowRolesEnforcedPause();
    /// @notice The contract is not paused.
    error StillflowRolesExpectedPause();

    /// @notice The contract was paused by `account`.
    event Paused(address account);
    /// @notice The contract was unpaused by `account`.
    event Unpaused(address account);

    /// @notice Role of the operator's bookkeeping key.
    function RELAYER_ROLE() external view returns (bytes32);
    /// @notice Role of the supervisor / auditor key.
    function SUPERVISOR_ROLE() external view returns (bytes32);
    /// @notice Pauses the contract's new business (see contracts/README.md for what stops). Admin or supervisor.
    function pause() external;
    /// @notice Resumes the contract. Admin only: supervision can stop the machine, only governance restarts it.
    function unpause() external;
    /// @notice True while paused.
    function paused() external view returns (bool);
}
