"""Copy the ABIs defirisk reads with from the pinned npm artifacts into abis/ (run after npm ci).

The JSON files in abis/ are committed; the library never reads node_modules at run time.
Fixture contracts compiled from defirisk/devnet/contracts write their own ABIs here too
(see defirisk.devnet.solc.write_fixture_abis).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NM = ROOT / "node_modules"

SOURCES = {
    "UniswapV2Factory": "@uniswap/v2-core/build/UniswapV2Factory.json",
    "UniswapV2Pair": "@uniswap/v2-core/build/UniswapV2Pair.json",
    "UniswapV3Factory": "@uniswap/v3-core/artifacts/contracts/UniswapV3Factory.sol/UniswapV3Factory.json",
    "UniswapV3Pool": "@uniswap/v3-core/artifacts/contracts/UniswapV3Pool.sol/UniswapV3Pool.json",
    "NonfungiblePositionManager": "@uniswap/v3-periphery/artifacts/contracts/NonfungiblePositionManager.sol/NonfungiblePositionManager.json",
    "SwapRouter": "@uniswap/v3-periphery/artifacts/contracts/SwapRouter.sol/SwapRouter.json",
    "AavePool": "@aave/core-v3/artifacts/contracts/protocol/pool/Pool.sol/Pool.json",
    "AavePoolAddressesProvider": "@aave/core-v3/artifacts/contracts/protocol/configuration/PoolAddressesProvider.sol/PoolAddressesProvider.json",
    "AaveProtocolDataProvider": "@aave/core-v3/artifacts/contracts/misc/AaveProtocolDataProvider.sol/AaveProtocolDataProvider.json",
    "AaveOracle": "@aave/core-v3/artifacts/contracts/misc/AaveOracle.sol/AaveOracle.json",
    "AaveAToken": "@aave/core-v3/artifacts/contracts/protocol/tokenization/AToken.sol/AToken.json",
    "AaveVariableDebtToken": "@aave/core-v3/artifacts/contracts/protocol/tokenization/VariableDebtToken.sol/VariableDebtToken.json",
    "AaveStableDebtToken": "@aave/core-v3/artifacts/contracts/protocol/tokenization/StableDebtToken.sol/StableDebtToken.json",
    "ChainlinkAggregator": "@aave/core-v3/artifacts/contracts/dependencies/chainlink/AggregatorInterface.sol/AggregatorInterface.json",
}


def main() -> int:
    out = ROOT / "abis"
    out.mkdir(exist_ok=True)
    for name, rel in SOURCES.items():
        path = NM / rel
        if not path.exists():
            print(f"missing {path}; run npm ci first", file=sys.stderr)
            return 1
        abi = json.loads(path.read_text())["abi"]
        (out / f"{name}.json").write_text(json.dumps(abi, indent=1) + "\n")
        print(f"abis/{name}.json ({len(abi)} entries)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
