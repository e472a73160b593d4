"""The engine: runs one analysis (a wallet, a pool, a lending market, a vault, or a book of wallets) at a pinned
ChainContext, for api.py (the public face) and scan/ alike. It reads through protocols/, assembles with analysis/
and risk/, and saves into an open cache; it never imports api or scan."""
