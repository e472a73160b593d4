// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import "ERC20Core.sol";

/// ERC-20 without decimals() whose symbol() and name() revert: the worst metadata seen in the field.
contract OddToken is ERC20Core {
    function symbol() external pure returns (string memory) {
        revert("no symbol");
    }

    function name() external pure returns (string memory) {
        revert();
    }
}
