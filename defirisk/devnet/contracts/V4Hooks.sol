// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

// Uniswap v4 hook fixtures for the devnet. A hook's address carries its permissions in its low 14 bits, so the
// builder deploys each one normally (immutables set by the constructor), then copies its runtime code to an address
// whose low bits are the flags it needs (anvil_setCode). Types are ABI-identical to v4-core's (Currency and IHooks
// are addresses; BeforeSwapDelta is an int256).

struct V4Key {
    address currency0;
    address currency1;
    uint24 fee;
    int24 tickSpacing;
    address hooks;
}

struct V4SwapParams {
    bool zeroForOne;
    int256 amountSpecified;
    uint160 sqrtPriceLimitX96;
}

interface IV4Manager {
    function updateDynamicLPFee(V4Key calldata key, uint24 newDynamicLPFee) external;
    function take(address currency, address to, uint256 amount) external;
}

/// A dynamic-fee hook (afterInitialize only: address low bits 0x1000): sets the pool's LP fee when the pool is
/// initialized, and its owner changes it later.
contract DynamicFeeHook {
    address public immutable manager;
    address public immutable owner;
    uint24 public immutable initialFee;

    constructor(address manager_, address owner_, uint24 initialFee_) {
        manager = manager_;
        owner = owner_;
        initialFee = initialFee_;
    }

    function afterInitialize(address, V4Key calldata key, uint160, int24) external returns (bytes4) {
        require(msg.sender == manager, "not the pool manager");
        IV4Manager(manager).updateDynamicLPFee(key, initialFee);
        return this.afterInitialize.selector;
    }

    function setFee(V4Key calldata key, uint24 fee) external {
        require(msg.sender == owner, "not owner");
        IV4Manager(manager).updateDynamicLPFee(key, fee);
    }
}

/// A hook that takes a cut of every exact-input swap before it runs (beforeSwap + beforeSwapReturnDelta: address
/// low bits 0x0088): `cutBips` of the specified input goes to the hook, the rest is swapped.
contract SwapCutHook {
    address public immutable manager;
    uint256 public immutable cutBips;

    constructor(address manager_, uint256 cutBips_) {
        manager = manager_;
        cutBips = cutBips_;
    }

    function beforeSwap(address, V4Key calldata key, V4SwapParams calldata params, bytes calldata)
        external
        returns (bytes4, int256, uint24)
    {
        require(msg.sender == manager, "not the pool manager");
        if (params.amountSpecified >= 0) return (this.beforeSwap.selector, 0, 0);
        uint256 cut = uint256(-params.amountSpecified) * cutBips / 10_000;
        address input = params.zeroForOne ? key.currency0 : key.currency1;
        IV4Manager(manager).take(input, address(this), cut);
        // specified delta in the upper 128 bits: positive = the hook took it from the swapper
        return (this.beforeSwap.selector, int256(cut) << 128, 0);
    }

    receive() external payable {}
}
