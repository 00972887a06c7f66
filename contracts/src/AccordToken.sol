// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {ERC20Votes} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Votes.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";

/// @title AccordToken
/// @notice The protocol's ERC20: staked by workers, paid as job rewards, and the voting weight of governance.
/// @dev The whole supply is minted once at deployment; there is no mint function afterwards. The supply is capped
/// at `type(uint96).max` so every balance, stake and reward fits the packed `uint96` fields of the protocol.
contract AccordToken is ERC20, ERC20Permit, ERC20Votes {
    /// @notice The initial supply exceeds what the protocol's packed amounts can hold.
    error SupplyTooLarge(uint256 supply, uint256 max);

    /// @notice Mints `supply` tokens to `holder`.
    /// @param holder Receives the whole initial supply.
    /// @param supply Amount in the smallest unit (18 decimals); at most `type(uint96).max`.
    constructor(address holder, uint256 supply) ERC20("Accord", "ACRD") ERC20Permit("Accord") {
        if (supply > type(uint96).max) revert SupplyTooLarge(supply, type(uint96).max);
        _mint(holder, supply);
    }

    /// @inheritdoc ERC20Permit
    function nonces(address owner) public view override(ERC20Permit, Nonces) returns (uint256) {
        return super.nonces(owner);
    }

    function _update(address from, address to, uint256 value) internal override(ERC20, ERC20Votes) {
        super._update(from, to, value);
    }
}
