"""Morpho Blue: isolated lending markets (loan token, collateral token, oracle, IRM, LLTV) of one singleton contract."""
