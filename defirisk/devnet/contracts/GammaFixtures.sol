// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/*
 * Opyn Gamma style options for the local demo chain: oToken, oToken factory, expiry-price oracle and
 * controller. No Gamma bytecode is published on npm, so these small contracts stand in for it.
 *
 * Kept faithful to mainnet Gamma (what a reader of a real deployment sees):
 *   - Otoken: underlyingAsset(), strikeAsset(), collateralAsset(), strikePrice() with 8 decimals,
 *     expiryTimestamp(), isPut(), getOtokenDetails(), 8-decimal ERC-20, Opyn-style name and symbol.
 *   - OtokenFactory: createOtoken/getOtoken with the real argument order, expiries at 08:00 UTC.
 *   - Oracle: getExpiryPrice(asset, expiry) -> (price with 8 decimals, isFinalized).
 *   - Controller: operate(ActionArgs[]) with the real ActionType numbering and ActionArgs layout;
 *     getAccountVaultCounter, getVault (the MarginVault.Vault struct of six arrays), getPayout,
 *     getProceed, isSettlementAllowed, oracle(); cash settlement of fully collateralized vaults:
 *     a holder receives getPayout(otoken, amount) = payoutRate * amount / 1e8, the writer's vault
 *     keeps collateral - payoutRate * shortAmount / 1e8.
 *
 * SIMPLIFICATIONS (each is marked where it happens):
 *   - The controller is its own margin pool (real Gamma keeps collateral in a separate MarginPool).
 *   - No AddressBook, Whitelist, MarginCalculator, naked margin, partial collateral, long oTokens,
 *     operators, liquidations or pause switches. One short oToken and one collateral asset per vault.
 *   - Payout arithmetic uses plain integer division instead of Gamma's 27-decimal FixedPointInt; the
 *     strike asset (USDC) is taken to be worth exactly its face value at expiry.
 *   - The oracle's owner sets expiry prices directly; they are final at once (real Gamma takes them
 *     from per-asset pricers after a locking period and finalizes them after a dispute period).
 *   - The factory deploys full contracts with `new` (real Gamma spawns minimal-proxy clones).
 */

interface IGammaERC20 {
    function transfer(address to, uint256 amount) external returns (bool);
    function transferFrom(address from, address to, uint256 amount) external returns (bool);
    function balanceOf(address who) external view returns (uint256);
    function decimals() external view returns (uint8);
    function symbol() external view returns (string memory);
}

/// An option series as an ERC-20 (8 decimals); only the controller mints and burns.
contract GammaOtoken {
    address public controller;
    address public underlyingAsset;
    address public strikeAsset;
    address public collateralAsset;
    /// strike price with 8 decimals
    uint256 public strikePrice;
    uint256 public expiryTimestamp;
    bool public isPut;

    string public name;
    string public symbol;
    /// SIMPLIFICATION: a constructor argument so tests can make an oddly scaled token; the factory always passes 8
    uint8 public immutable decimals;
    uint256 public totalSupply;
    mapping(address => uint256) public balanceOf;
    mapping(address => mapping(address => uint256)) public allowance;

    event Transfer(address indexed from, address indexed to, uint256 value);
    event Approval(address indexed owner, address indexed spender, uint256 value);

    constructor(
        address _controller,
        address _underlyingAsset,
        address _strikeAsset,
        address _collateralAsset,
        uint256 _strikePrice,
        uint256 _expiryTimestamp,
        bool _isPut,
        uint8 _decimals
    ) {
        controller = _controller;
        underlyingAsset = _underlyingAsset;
        strikeAsset = _strikeAsset;
        collateralAsset = _collateralAsset;
        strikePrice = _strikePrice;
        expiryTimestamp = _expiryTimestamp;
        isPut = _isPut;
        decimals = _decimals;
        (name, symbol) = _nameAndSymbol();
    }

    function getOtokenDetails() external view returns (address, address, address, uint256, uint256, bool) {
        return (collateralAsset, underlyingAsset, strikeAsset, strikePrice, expiryTimestamp, isPut);
    }

    function mintOtoken(address account, uint256 amount) external {
        require(msg.sender == controller, "Otoken: Only Controller can mint Otokens");
        totalSupply += amount;
        balanceOf[account] += amount;
        emit Transfer(address(0), account, amount);
    }

    function burnOtoken(address account, uint256 amount) external {
        require(msg.sender == controller, "Otoken: Only Controller can burn Otokens");
        balanceOf[account] -= amount;
        totalSupply -= amount;
        emit Transfer(account, address(0), amount);
    }

    function approve(address spender, uint256 amount) external returns (bool) {
        allowance[msg.sender][spender] = amount;
        emit Approval(msg.sender, spender, amount);
        return true;
    }

    function transfer(address to, uint256 amount) external returns (bool) {
        _move(msg.sender, to, amount);
        return true;
    }

    function transferFrom(address from, address to, uint256 amount) external returns (bool) {
        uint256 a = allowance[from][msg.sender];
        if (a != type(uint256).max) allowance[from][msg.sender] = a - amount;
        _move(from, to, amount);
        return true;
    }

    function _move(address from, address to, uint256 amount) internal {
        balanceOf[from] -= amount;
        balanceOf[to] += amount;
        emit Transfer(from, to, amount);
    }

    /// Opyn's naming: "WETHUSDC 17-September-2021 3400Call USDC Collateral" / "oWETHUSDC/WETH-17SEP21-3400C"
    function _nameAndSymbol() internal view returns (string memory tokenName, string memory tokenSymbol) {
        string memory u = IGammaERC20(underlyingAsset).symbol();
        string memory s = IGammaERC20(strikeAsset).symbol();
        string memory c = IGammaERC20(collateralAsset).symbol();
        (uint256 y, uint256 m, uint256 d) = _date(expiryTimestamp);
        string memory k = _strikeText(strikePrice);
        string memory dd = _two(d);
        tokenName = string(
            abi.encodePacked(u, s, " ", dd, "-", _monthLong(m), "-", _str(y), " ", k, isPut ? "Put " : "Call ", c, " Collateral")
        );
        tokenSymbol = string(abi.encodePacked("o", u, s, "/", c, "-", dd, _monthShort(m), _two(y % 100), "-", k, isPut ? "P" : "C"));
    }

    /// civil date of a unix time (Howard Hinnant's days-to-civil algorithm)
    function _date(uint256 ts) internal pure returns (uint256 y, uint256 m, uint256 d) {
        uint256 z = ts / 86400 + 719468;
        uint256 era = z / 146097;
        uint256 doe = z - era * 146097;
        uint256 yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        uint256 doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        uint256 mp = (5 * doy + 2) / 153;
        d = doy - (153 * mp + 2) / 5 + 1;
        m = mp < 10 ? mp + 3 : mp - 9;
        y = yoe + era * 400 + (m <= 2 ? 1 : 0);
    }

    function _strikeText(uint256 k) internal pure returns (string memory) {
        uint256 q = k / 1e8;
        uint256 r = k % 1e8;
        if (r == 0) return _str(q);
        uint256 digits = 8;
        while (r % 10 == 0) {
            r /= 10;
            digits -= 1;
        }
        string memory frac = _str(r + 10 ** digits); // leading "1" keeps the zeros after the point
        bytes memory b = bytes(frac);
        bytes memory out = new bytes(b.length - 1);
        for (uint256 i = 1; i < b.length; i++) out[i - 1] = b[i];
        return string(abi.encodePacked(_str(q), ".", out));
    }

    function _two(uint256 n) internal pure returns (string memory) {
        return n < 10 ? string(abi.encodePacked("0", _str(n))) : _str(n);
    }

    function _monthShort(uint256 m) internal pure returns (string memory) {
        bytes memory all = "JANFEBMARAPRMAYJUNJULAUGSEPOCTNOVDEC";
        bytes memory out = new bytes(3);
        for (uint256 i = 0; i < 3; i++) out[i] = all[(m - 1) * 3 + i];
        return string(out);
    }

    function _monthLong(uint256 m) internal pure returns (string memory) {
        string[12] memory names = [
            "January", "February", "March", "April", "May", "June",
            "July", "August", "September", "October", "November", "December"
        ];
        return names[m - 1];
    }

    function _str(uint256 v) internal pure returns (string memory) {
        if (v == 0) return "0";
        uint256 n;
        for (uint256 t = v; t != 0; t /= 10) n++;
        bytes memory b = new bytes(n);
        for (; v != 0; v /= 10) b[--n] = bytes1(uint8(48 + (v % 10)));
        return string(b);
    }
}

/// Creates one oToken per series (underlying, strike asset, collateral, strike, expiry, put/call).
contract GammaOtokenFactory {
    /// SIMPLIFICATION: real factories read the controller from Opyn's AddressBook
    address public immutable controller;
    address[] private otokens;
    mapping(bytes32 => address) private idToAddress;

    /// 2345/12/31 00:00 UTC, as in Opyn
    uint256 private constant MAX_EXPIRY = 11865398400;

    event OtokenCreated(
        address tokenAddress,
        address creator,
        address indexed underlying,
        address indexed strike,
        address indexed collateral,
        uint256 strikePrice,
        uint256 expiry,
        bool isPut
    );

    constructor(address _controller) {
        controller = _controller;
    }

    function createOtoken(
        address _underlyingAsset,
        address _strikeAsset,
        address _collateralAsset,
        uint256 _strikePrice,
        uint256 _expiry,
        bool _isPut
    ) external returns (address) {
        require(_expiry > block.timestamp, "OtokenFactory: Can't create expired option");
        require(_expiry < MAX_EXPIRY, "OtokenFactory: Can't create option with expiry > 2345/12/31");
        require((_expiry - 28800) % 86400 == 0, "OtokenFactory: Option has to expire 08:00 UTC");
        require(_strikePrice > 0, "OtokenFactory: strike price must be positive");
        // SIMPLIFICATION of Opyn's product whitelist: calls are collateralized in the underlying, puts in the strike asset
        require(_isPut ? _collateralAsset == _strikeAsset : _collateralAsset == _underlyingAsset, "OtokenFactory: Unsupported Product");
        bytes32 id = _id(_underlyingAsset, _strikeAsset, _collateralAsset, _strikePrice, _expiry, _isPut);
        require(idToAddress[id] == address(0), "OtokenFactory: Option already created");
        address otoken = address(
            new GammaOtoken(controller, _underlyingAsset, _strikeAsset, _collateralAsset, _strikePrice, _expiry, _isPut, 8)
        );
        idToAddress[id] = otoken;
        otokens.push(otoken);
        emit OtokenCreated(otoken, msg.sender, _underlyingAsset, _strikeAsset, _collateralAsset, _strikePrice, _expiry, _isPut);
        return otoken;
    }

    function getOtoken(
        address _underlyingAsset,
        address _strikeAsset,
        address _collateralAsset,
        uint256 _strikePrice,
        uint256 _expiry,
        bool _isPut
    ) external view returns (address) {
        return idToAddress[_id(_underlyingAsset, _strikeAsset, _collateralAsset, _strikePrice, _expiry, _isPut)];
    }

    function getOtokensLength() external view returns (uint256) {
        return otokens.length;
    }

    function _id(address u, address s, address c, uint256 k, uint256 e, bool p) internal pure returns (bytes32) {
        return keccak256(abi.encode(u, s, c, k, e, p));
    }
}

/// Expiry prices (8 decimals, USD) per asset and expiry timestamp.
contract GammaOracle {
    /// SIMPLIFICATION: the owner stands in for Opyn's per-asset pricers and disputer
    address public owner;
    mapping(address => mapping(uint256 => uint256)) private storedPrice;
    mapping(address => mapping(uint256 => bool)) private priceSet;

    event ExpiryPriceUpdated(address indexed asset, uint256 indexed expiryTimestamp, uint256 price, uint256 onchainTimestamp);

    constructor() {
        owner = msg.sender;
    }

    function setExpiryPrice(address _asset, uint256 _expiryTimestamp, uint256 _price) external {
        require(msg.sender == owner, "Oracle: caller is not authorized to set expiry price");
        require(block.timestamp >= _expiryTimestamp, "Oracle: price can not be set before expiry");
        require(!priceSet[_asset][_expiryTimestamp], "Oracle: dispute period started");
        storedPrice[_asset][_expiryTimestamp] = _price;
        priceSet[_asset][_expiryTimestamp] = true;
        emit ExpiryPriceUpdated(_asset, _expiryTimestamp, _price, block.timestamp);
    }

    /// (price with 8 decimals, isFinalized); SIMPLIFICATION: final as soon as it is set
    function getExpiryPrice(address _asset, uint256 _expiryTimestamp) external view returns (uint256, bool) {
        return (storedPrice[_asset][_expiryTimestamp], priceSet[_asset][_expiryTimestamp]);
    }

    function isDisputePeriodOver(address _asset, uint256 _expiryTimestamp) external view returns (bool) {
        return priceSet[_asset][_expiryTimestamp];
    }
}

/// Vaults of collateral backing short oTokens, and cash settlement after expiry.
contract GammaController {
    enum ActionType {
        OpenVault,
        MintShortOption,
        BurnShortOption,
        DepositLongOption,
        WithdrawLongOption,
        DepositCollateral,
        WithdrawCollateral,
        SettleVault,
        Redeem,
        Call,
        Liquidate
    }

    struct ActionArgs {
        ActionType actionType;
        address owner;
        address secondAddress;
        address asset;
        uint256 vaultId;
        uint256 amount;
        uint256 index;
        bytes data;
    }

    /// Opyn's MarginVault.Vault
    struct Vault {
        address[] shortOtokens;
        address[] longOtokens;
        address[] collateralAssets;
        uint256[] shortAmounts;
        uint256[] longAmounts;
        uint256[] collateralAmounts;
    }

    GammaOracle public immutable oracle;
    mapping(address => uint256) internal accountVaultCounter;
    mapping(address => mapping(uint256 => Vault)) internal vaults;

    event VaultOpened(address indexed accountOwner, uint256 vaultId, uint256 indexed vaultType);
    event CollateralAssetDeposited(address indexed asset, address indexed accountOwner, address indexed from, uint256 vaultId, uint256 amount);
    event CollateralAssetWithdrawed(address indexed asset, address indexed AccountOwner, address indexed to, uint256 vaultId, uint256 amount);
    event ShortOtokenMinted(address indexed otoken, address indexed AccountOwner, address indexed to, uint256 vaultId, uint256 amount);
    event ShortOtokenBurned(address indexed otoken, address indexed AccountOwner, address indexed from, uint256 vaultId, uint256 amount);
    event Redeem(address indexed otoken, address indexed redeemer, address indexed receiver, address collateralAsset, uint256 otokenBurned, uint256 payout);
    event VaultSettled(address indexed accountOwner, address indexed oTokenAddress, address to, uint256 payout, uint256 vaultId, uint256 indexed vaultType);

    constructor(GammaOracle _oracle) {
        oracle = _oracle;
    }

    function operate(ActionArgs[] calldata _actions) external {
        for (uint256 i = 0; i < _actions.length; i++) {
            ActionArgs calldata a = _actions[i];
            ActionType t = a.actionType;
            if (t == ActionType.OpenVault) _openVault(a);
            else if (t == ActionType.DepositCollateral) _depositCollateral(a);
            else if (t == ActionType.MintShortOption) _mintOtoken(a);
            else if (t == ActionType.BurnShortOption) _burnOtoken(a);
            else if (t == ActionType.WithdrawCollateral) _withdrawCollateral(a);
            else if (t == ActionType.SettleVault) _settleVault(a);
            else if (t == ActionType.Redeem) _redeem(a);
            else revert("Controller: action not supported by this fixture"); // SIMPLIFICATION
        }
    }

    // -- views -------------------------------------------------------------------------------------------

    function getAccountVaultCounter(address _accountOwner) external view returns (uint256) {
        return accountVaultCounter[_accountOwner];
    }

    function getVault(address _owner, uint256 _vaultId) external view returns (Vault memory) {
        return vaults[_owner][_vaultId];
    }

    /// collateral paid for `_amount` oTokens after expiry (0 before the expiry price is final)
    function getPayout(address _otoken, uint256 _amount) public view returns (uint256) {
        return (_payoutRate(GammaOtoken(_otoken)) * _amount) / 1e8;
    }

    /// collateral the vault owner can take out now: the excess over the margin before expiry, the rest after settlement
    function getProceed(address _owner, uint256 _vaultId) external view returns (uint256) {
        Vault storage v = vaults[_owner][_vaultId];
        if (v.collateralAmounts.length == 0) return 0;
        uint256 collateral = v.collateralAmounts[0];
        if (v.shortOtokens.length == 0 || v.shortOtokens[0] == address(0)) return collateral;
        GammaOtoken o = GammaOtoken(v.shortOtokens[0]);
        if (block.timestamp >= o.expiryTimestamp()) {
            return collateral - (_payoutRate(o) * v.shortAmounts[0]) / 1e8;
        }
        return collateral - _required(o, v.shortAmounts[0]);
    }

    function isSettlementAllowed(address _otoken) public view returns (bool) {
        GammaOtoken o = GammaOtoken(_otoken);
        if (block.timestamp < o.expiryTimestamp()) return false;
        (, bool finalized) = oracle.getExpiryPrice(o.underlyingAsset(), o.expiryTimestamp());
        return finalized;
    }

    // -- actions -----------------------------------------------------------------------------------------

    function _openVault(ActionArgs calldata a) internal {
        require(a.owner == msg.sender, "Controller: msg.sender is not authorized to run action");
        uint256 id = accountVaultCounter[a.owner] + 1;
        require(a.vaultId == id, "Controller: can not run actions on inexistent vault");
        accountVaultCounter[a.owner] = id;
        emit VaultOpened(a.owner, id, 0);
    }

    function _vault(ActionArgs calldata a) internal view returns (Vault storage) {
        require(a.owner == msg.sender, "Controller: msg.sender is not authorized to run action");
        require(a.vaultId > 0 && a.vaultId <= accountVaultCounter[a.owner], "Controller: invalid vault id");
        return vaults[a.owner][a.vaultId];
    }

    function _depositCollateral(ActionArgs calldata a) internal {
        Vault storage v = _vault(a);
        require(a.secondAddress == msg.sender || a.secondAddress == a.owner, "Controller: invalid from address");
        if (v.collateralAssets.length == 0) {
            v.collateralAssets.push(a.asset);
            v.collateralAmounts.push(0);
        }
        require(v.collateralAssets[0] == a.asset, "MarginVault: collateral mismatch"); // SIMPLIFICATION: one collateral
        v.collateralAmounts[0] += a.amount;
        require(IGammaERC20(a.asset).transferFrom(a.secondAddress, address(this), a.amount), "transfer failed");
        emit CollateralAssetDeposited(a.asset, a.owner, a.secondAddress, a.vaultId, a.amount);
    }

    function _mintOtoken(ActionArgs calldata a) internal {
        Vault storage v = _vault(a);
        GammaOtoken o = GammaOtoken(a.asset);
        require(block.timestamp < o.expiryTimestamp(), "Controller: can not run actions on expired otoken");
        if (v.shortOtokens.length == 0) {
            v.shortOtokens.push(a.asset);
            v.shortAmounts.push(0);
        }
        require(v.shortOtokens[0] == a.asset, "MarginVault: short otoken mismatch"); // SIMPLIFICATION: one short
        v.shortAmounts[0] += a.amount;
        _checkMargin(v);
        o.mintOtoken(a.secondAddress, a.amount);
        emit ShortOtokenMinted(a.asset, a.owner, a.secondAddress, a.vaultId, a.amount);
    }

    function _burnOtoken(ActionArgs calldata a) internal {
        Vault storage v = _vault(a);
        GammaOtoken o = GammaOtoken(a.asset);
        require(block.timestamp < o.expiryTimestamp(), "Controller: can not run actions on expired otoken");
        require(a.secondAddress == msg.sender || a.secondAddress == a.owner, "Controller: invalid from address");
        require(v.shortOtokens.length > 0 && v.shortOtokens[0] == a.asset, "MarginVault: short otoken mismatch");
        v.shortAmounts[0] -= a.amount;
        o.burnOtoken(a.secondAddress, a.amount);
        emit ShortOtokenBurned(a.asset, a.owner, a.secondAddress, a.vaultId, a.amount);
    }

    function _withdrawCollateral(ActionArgs calldata a) internal {
        Vault storage v = _vault(a);
        if (v.shortOtokens.length > 0 && v.shortOtokens[0] != address(0)) {
            require(
                block.timestamp < GammaOtoken(v.shortOtokens[0]).expiryTimestamp(),
                "Controller: can not withdraw collateral from a vault with an expired short otoken"
            );
        }
        require(v.collateralAssets.length > 0 && v.collateralAssets[0] == a.asset, "MarginVault: collateral mismatch");
        v.collateralAmounts[0] -= a.amount;
        _checkMargin(v);
        require(IGammaERC20(a.asset).transfer(a.secondAddress, a.amount), "transfer failed");
        emit CollateralAssetWithdrawed(a.asset, a.owner, a.secondAddress, a.vaultId, a.amount);
    }

    function _settleVault(ActionArgs calldata a) internal {
        Vault storage v = _vault(a);
        require(v.shortOtokens.length > 0 && v.shortOtokens[0] != address(0), "Controller: can not settle vault with no otoken");
        GammaOtoken o = GammaOtoken(v.shortOtokens[0]);
        require(block.timestamp >= o.expiryTimestamp(), "Controller: can not settle vault with un-expired otoken");
        require(isSettlementAllowed(address(o)), "Controller: asset prices not finalized yet");
        uint256 collateral = v.collateralAmounts.length > 0 ? v.collateralAmounts[0] : 0;
        uint256 owed = (_payoutRate(o) * v.shortAmounts[0]) / 1e8;
        uint256 proceeds = collateral - owed;
        address asset = v.collateralAssets[0];
        delete vaults[a.owner][a.vaultId];
        require(IGammaERC20(asset).transfer(a.secondAddress, proceeds), "transfer failed");
        emit VaultSettled(a.owner, address(o), a.secondAddress, proceeds, a.vaultId, 0);
    }

    function _redeem(ActionArgs calldata a) internal {
        GammaOtoken o = GammaOtoken(a.asset);
        require(block.timestamp >= o.expiryTimestamp(), "Controller: can not redeem un-expired otoken");
        require(isSettlementAllowed(a.asset), "Controller: asset prices not finalized yet");
        uint256 payout = getPayout(a.asset, a.amount);
        o.burnOtoken(msg.sender, a.amount);
        address collateral = o.collateralAsset();
        if (payout > 0) require(IGammaERC20(collateral).transfer(a.secondAddress, payout), "transfer failed");
        emit Redeem(a.asset, msg.sender, a.secondAddress, collateral, a.amount, payout);
    }

    // -- arithmetic --------------------------------------------------------------------------------------

    /// collateral owed per 1e8 oTokens (one option) at the final expiry price; SIMPLIFICATION: plain integer math
    function _payoutRate(GammaOtoken o) internal view returns (uint256) {
        (uint256 price, bool finalized) = oracle.getExpiryPrice(o.underlyingAsset(), o.expiryTimestamp());
        if (!finalized || block.timestamp < o.expiryTimestamp()) return 0;
        uint256 k = o.strikePrice();
        uint256 unit = 10 ** uint256(IGammaERC20(o.collateralAsset()).decimals());
        if (o.isPut()) return price < k ? ((k - price) * unit) / 1e8 : 0; // strike asset paid at face value
        return price > k ? ((price - k) * unit) / price : 0; // (S - K) / S units of the underlying
    }

    /// collateral a fully collateralized vault needs for `shortAmount` oTokens
    function _required(GammaOtoken o, uint256 shortAmount) internal view returns (uint256) {
        uint256 unit = 10 ** uint256(IGammaERC20(o.collateralAsset()).decimals());
        if (o.isPut()) return _ceilDiv(shortAmount * o.strikePrice() * unit, 1e16);
        return _ceilDiv(shortAmount * unit, 1e8);
    }

    function _checkMargin(Vault storage v) internal view {
        if (v.shortOtokens.length == 0 || v.shortAmounts[0] == 0) return;
        uint256 collateral = v.collateralAmounts.length > 0 ? v.collateralAmounts[0] : 0;
        require(collateral >= _required(GammaOtoken(v.shortOtokens[0]), v.shortAmounts[0]), "Controller: invalid final vault state");
    }

    function _ceilDiv(uint256 a, uint256 b) internal pure returns (uint256) {
        return a == 0 ? 0 : (a - 1) / b + 1;
    }
}
