// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import "ERC20Core.sol";

/// ERC-20 whose name() and symbol() return bytes32, like MKR on mainnet.
contract Bytes32Token is ERC20Core {
    bytes32 public name;
    bytes32 public symbol;
    uint8 public immutable decimals;

    constructor(bytes32 name_, bytes32 symbol_, uint8 decimals_) {
        name = name_;
        symbol = symbol_;
        decimals = decimals_;
    }
}
