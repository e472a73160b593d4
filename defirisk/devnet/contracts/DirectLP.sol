// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

interface IERC20Min {
    function transfer(address to, uint256 amount) external returns (bool);
    function transferFrom(address from, address to, uint256 amount) external returns (bool);
}

interface IUniswapV3PoolMin {
    function token0() external view returns (address);
    function token1() external view returns (address);
    function mint(address recipient, int24 tickLower, int24 tickUpper, uint128 amount, bytes calldata data)
        external returns (uint256 amount0, uint256 amount1);
    function burn(int24 tickLower, int24 tickUpper, uint128 amount) external returns (uint256 amount0, uint256 amount1);
    function collect(address recipient, int24 tickLower, int24 tickUpper, uint128 amount0Requested, uint128 amount1Requested)
        external returns (uint128 amount0, uint128 amount1);
}

/// A contract wallet that provides liquidity directly on Uniswap v3 pools (no position manager).
/// Positions belong to this contract; its owner pays tokens in via transferFrom during the mint callback.
contract DirectLP {
    address public immutable owner;
    address private expectedPool;

    constructor() {
        owner = msg.sender;
    }

    modifier onlyOwner() {
        require(msg.sender == owner, "not owner");
        _;
    }

    function mint(address pool, int24 tickLower, int24 tickUpper, uint128 amount)
        external onlyOwner returns (uint256, uint256)
    {
        expectedPool = pool;
        (uint256 a0, uint256 a1) = IUniswapV3PoolMin(pool).mint(address(this), tickLower, tickUpper, amount, "");
        expectedPool = address(0);
        return (a0, a1);
    }

    function uniswapV3MintCallback(uint256 amount0Owed, uint256 amount1Owed, bytes calldata) external {
        require(msg.sender == expectedPool, "unexpected caller");
        if (amount0Owed > 0) IERC20Min(IUniswapV3PoolMin(msg.sender).token0()).transferFrom(owner, msg.sender, amount0Owed);
        if (amount1Owed > 0) IERC20Min(IUniswapV3PoolMin(msg.sender).token1()).transferFrom(owner, msg.sender, amount1Owed);
    }

    /// Burn `amount` liquidity and collect everything owed to the owner; returns principal and total collected.
    function burnAndCollect(address pool, int24 tickLower, int24 tickUpper, uint128 amount)
        external onlyOwner returns (uint256 burned0, uint256 burned1, uint128 collected0, uint128 collected1)
    {
        (burned0, burned1) = IUniswapV3PoolMin(pool).burn(tickLower, tickUpper, amount);
        (collected0, collected1) =
            IUniswapV3PoolMin(pool).collect(owner, tickLower, tickUpper, type(uint128).max, type(uint128).max);
    }
}
