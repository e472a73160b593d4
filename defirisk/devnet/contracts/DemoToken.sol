// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import "ERC20Core.sol";

/// Plain ERC-20 with settable decimals and open minting, for the local demo chain only.
contract DemoToken is ERC20Core {
    string public name;
    string public symbol;
    uint8 public immutable decimals;

    constructor(string memory name_, string memory symbol_, uint8 decimals_) {
        name = name_;
        symbol = symbol_;
        decimals = decimals_;
    }
}
