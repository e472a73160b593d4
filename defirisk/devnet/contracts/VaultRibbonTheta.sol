// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/*
 * A Ribbon-v2-style theta vault for the local demo chain (no Ribbon bytecode is published on npm).
 *
 * Kept faithful to mainnet RibbonThetaVault (same names, argument and return layouts, same share math):
 *   vaultParams(), vaultState(), optionState(), depositReceipts(a), withdrawals(a), roundPricePerShare(r),
 *   shares(a), shareBalances(a), accountVaultBalance(a), pricePerShare(), totalBalance(), decimals(),
 *   cap(), totalPending(), currentOption(), nextOption(), nextOptionReadyAt(), lastQueuedWithdrawAmount(),
 *   currentQueuedWithdrawShares(), GAMMA_CONTROLLER(), MARGIN_POOL(), OTOKEN_FACTORY(), keeper(), owner(),
 *   performanceFee(), managementFee(); ERC-20 shares; deposit, depositFor, withdrawInstantly,
 *   initiateWithdraw, completeWithdraw, redeem, maxRedeem, commitAndClose, rollToNextOption,
 *   burnRemainingOTokens, setStrikePrice, setCap. Deposits wait for the round's end and become shares at
 *   that round's price per share; withdrawals queued in a round are paid at that round's closing price;
 *   each round mints fully collateralized oTokens through the Gamma controller (createShort) and settles
 *   them after expiry (settleShort), with the next expiry on the Friday 08:00 UTC after the last one.
 *
 * SIMPLIFICATIONS (each is marked where it happens):
 *   - Not an upgradeable proxy: a constructor instead of initialize(); owner, keeper and fee recipient are one account.
 *   - No fees: performanceFee and managementFee are 0 and nothing is charged at rollover.
 *   - The strike comes from setStrikePrice (the real owner override) every round; real vaults otherwise ask
 *     a delta-based StrikeSelection contract and price the premium with an OptionsPremiumPricer.
 *   - sellOptions(buyer, amount, premium) stands in for the Gnosis EasyAuction (and the options purchase queue).
 *   - A WETH vault pays WETH on withdrawal (the real one unwraps to ETH); no depositETH, stake or gauges.
 */

interface IRibbonERC20 {
    function transfer(address to, uint256 amount) external returns (bool);
    function transferFrom(address from, address to, uint256 amount) external returns (bool);
    function approve(address spender, uint256 amount) external returns (bool);
    function balanceOf(address who) external view returns (uint256);
    function decimals() external view returns (uint8);
}

interface IRibbonOtoken {
    function underlyingAsset() external view returns (address);
    function strikeAsset() external view returns (address);
    function collateralAsset() external view returns (address);
    function strikePrice() external view returns (uint256);
    function expiryTimestamp() external view returns (uint256);
    function isPut() external view returns (bool);
}

interface IRibbonOtokenFactory {
    function getOtoken(address, address, address, uint256, uint256, bool) external view returns (address);
    function createOtoken(address, address, address, uint256, uint256, bool) external returns (address);
}

interface IRibbonGammaController {
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

    struct Vault {
        address[] shortOtokens;
        address[] longOtokens;
        address[] collateralAssets;
        uint256[] shortAmounts;
        uint256[] longAmounts;
        uint256[] collateralAmounts;
    }

    function operate(ActionArgs[] calldata _actions) external;
    function getAccountVaultCounter(address owner) external view returns (uint256);
    function getVault(address _owner, uint256 _vaultId) external view returns (Vault memory);
}

/// Ribbon's Vault library: the storage structs, field for field.
library RibbonVaultLib {
    uint256 internal constant OTOKEN_DECIMALS = 8;

    struct VaultParams {
        bool isPut;
        uint8 decimals;
        address asset;
        address underlying;
        uint56 minimumSupply;
        uint104 cap;
    }

    struct OptionState {
        address nextOption;
        address currentOption;
        uint32 nextOptionReadyAt;
    }

    struct VaultState {
        uint16 round;
        uint104 lockedAmount;
        uint104 lastLockedAmount;
        uint128 totalPending;
        uint128 queuedWithdrawShares;
    }

    struct DepositReceipt {
        uint16 round;
        uint104 amount;
        uint128 unredeemedShares;
    }

    struct Withdrawal {
        uint16 round;
        uint128 shares;
    }
}

/// Ribbon's ShareMath: shares <-> asset at a round's price per share, rounding down.
library RibbonShareMath {
    uint256 internal constant PLACEHOLDER_UINT = 1;

    function assetToShares(uint256 assetAmount, uint256 assetPerShare, uint256 decimals) internal pure returns (uint256) {
        require(assetPerShare > PLACEHOLDER_UINT, "Invalid assetPerShare");
        return (assetAmount * 10 ** decimals) / assetPerShare;
    }

    function sharesToAsset(uint256 shares, uint256 assetPerShare, uint256 decimals) internal pure returns (uint256) {
        require(assetPerShare > PLACEHOLDER_UINT, "Invalid assetPerShare");
        return (shares * assetPerShare) / 10 ** decimals;
    }

    function getSharesFromReceipt(
        RibbonVaultLib.DepositReceipt memory depositReceipt,
        uint256 currentRound,
        uint256 assetPerShare,
        uint256 decimals
    ) internal pure returns (uint256 unredeemedShares) {
        if (depositReceipt.round > 0 && depositReceipt.round < currentRound) {
            uint256 sharesFromRound = assetToShares(depositReceipt.amount, assetPerShare, decimals);
            return uint256(depositReceipt.unredeemedShares) + sharesFromRound;
        }
        return depositReceipt.unredeemedShares;
    }

    function pricePerShare(uint256 totalSupply, uint256 totalBalance, uint256 pendingAmount, uint256 decimals)
        internal
        pure
        returns (uint256)
    {
        uint256 singleShare = 10 ** decimals;
        return totalSupply > 0 ? (singleShare * (totalBalance - pendingAmount)) / totalSupply : singleShare;
    }

    function assertUint104(uint256 num) internal pure {
        require(num <= type(uint104).max, "Overflow uint104");
    }

    function assertUint128(uint256 num) internal pure {
        require(num <= type(uint128).max, "Overflow uint128");
    }
}

contract RibbonThetaVault {
    using RibbonShareMath for RibbonVaultLib.DepositReceipt;

    // -- ERC-20 shares -----------------------------------------------------------------------------------
    string public name;
    string public symbol;
    uint256 public totalSupply;
    mapping(address => uint256) public balanceOf;
    mapping(address => mapping(address => uint256)) public allowance;

    // -- RibbonVault storage -----------------------------------------------------------------------------
    mapping(address => RibbonVaultLib.DepositReceipt) public depositReceipts;
    mapping(uint256 => uint256) public roundPricePerShare;
    mapping(address => RibbonVaultLib.Withdrawal) public withdrawals;
    RibbonVaultLib.VaultParams public vaultParams;
    RibbonVaultLib.VaultState public vaultState;
    RibbonVaultLib.OptionState public optionState;
    address public feeRecipient;
    address public keeper;
    uint256 public performanceFee; // SIMPLIFICATION: always 0, nothing is charged
    uint256 public managementFee; // SIMPLIFICATION: always 0, nothing is charged
    address public owner;

    // -- RibbonThetaVault storage ------------------------------------------------------------------------
    uint256 public overriddenStrikePrice;
    uint16 public lastStrikeOverrideRound;
    /// asset set aside for withdrawals queued in past rounds and not completed yet
    uint256 public lastQueuedWithdrawAmount;
    /// shares queued for withdrawal in the current round (added to vaultState.queuedWithdrawShares at rollover)
    uint256 public currentQueuedWithdrawShares;

    address public immutable WETH;
    address public immutable USDC;
    address public immutable OTOKEN_FACTORY;
    address public immutable GAMMA_CONTROLLER;
    address public immutable MARGIN_POOL;
    uint256 public constant DELAY = 0;
    uint256 public constant PERIOD = 7 days;

    uint256 private _status = 1;

    event Transfer(address indexed from, address indexed to, uint256 value);
    event Approval(address indexed owner, address indexed spender, uint256 value);
    event Deposit(address indexed account, uint256 amount, uint256 round);
    event InitiateWithdraw(address indexed account, uint256 shares, uint256 round);
    event Redeem(address indexed account, uint256 share, uint256 round);
    event Withdraw(address indexed account, uint256 amount, uint256 shares);
    event InstantWithdraw(address indexed account, uint256 amount, uint256 round);
    event CollectVaultFees(uint256 performanceFee, uint256 vaultFee, uint256 round, address indexed feeRecipient);
    event OpenShort(address indexed options, uint256 depositAmount, address indexed manager);
    event CloseShort(address indexed options, uint256 withdrawAmount, address indexed manager);
    event NewOptionStrikeSelected(uint256 strikePrice, uint256 delta);

    modifier nonReentrant() {
        require(_status == 1, "ReentrancyGuard: reentrant call");
        _status = 2;
        _;
        _status = 1;
    }

    modifier onlyOwner() {
        require(msg.sender == owner, "Ownable: caller is not the owner");
        _;
    }

    modifier onlyKeeper() {
        require(msg.sender == keeper, "!keeper");
        _;
    }

    /// SIMPLIFICATION: constructor instead of the proxy's initialize(InitParams, VaultParams)
    constructor(
        address _weth,
        address _usdc,
        address _oTokenFactory,
        address _gammaController,
        address _marginPool,
        address _owner,
        string memory _tokenName,
        string memory _tokenSymbol,
        RibbonVaultLib.VaultParams memory _vaultParams
    ) {
        require(_vaultParams.asset != address(0) && _vaultParams.underlying != address(0), "!params");
        require(_vaultParams.cap > 0, "!cap");
        WETH = _weth;
        USDC = _usdc;
        OTOKEN_FACTORY = _oTokenFactory;
        GAMMA_CONTROLLER = _gammaController;
        MARGIN_POOL = _marginPool;
        owner = _owner;
        keeper = _owner;
        feeRecipient = _owner;
        name = _tokenName;
        symbol = _tokenSymbol;
        vaultParams = _vaultParams;
        uint256 assetBalance = IRibbonERC20(_vaultParams.asset).balanceOf(address(this));
        RibbonShareMath.assertUint104(assetBalance);
        vaultState.lastLockedAmount = uint104(assetBalance);
        vaultState.round = 1;
    }

    // -- ERC-20 ------------------------------------------------------------------------------------------

    function decimals() public view returns (uint8) {
        return vaultParams.decimals;
    }

    function approve(address spender, uint256 amount) external returns (bool) {
        allowance[msg.sender][spender] = amount;
        emit Approval(msg.sender, spender, amount);
        return true;
    }

    function transfer(address to, uint256 amount) external returns (bool) {
        _transfer(msg.sender, to, amount);
        return true;
    }

    function transferFrom(address from, address to, uint256 amount) external returns (bool) {
        uint256 a = allowance[from][msg.sender];
        if (a != type(uint256).max) allowance[from][msg.sender] = a - amount;
        _transfer(from, to, amount);
        return true;
    }

    function _transfer(address from, address to, uint256 amount) internal {
        balanceOf[from] -= amount;
        balanceOf[to] += amount;
        emit Transfer(from, to, amount);
    }

    function _mint(address to, uint256 amount) internal {
        totalSupply += amount;
        balanceOf[to] += amount;
        emit Transfer(address(0), to, amount);
    }

    function _burn(address from, uint256 amount) internal {
        balanceOf[from] -= amount;
        totalSupply -= amount;
        emit Transfer(from, address(0), amount);
    }

    // -- owner settings ----------------------------------------------------------------------------------

    function setStrikePrice(uint128 strikePrice) external onlyOwner {
        require(strikePrice > 0, "!strikePrice");
        overriddenStrikePrice = strikePrice;
        lastStrikeOverrideRound = vaultState.round;
    }

    function setCap(uint256 newCap) external onlyOwner {
        require(newCap > 0, "!newCap");
        RibbonShareMath.assertUint104(newCap);
        vaultParams.cap = uint104(newCap);
    }

    function setNewKeeper(address newKeeper) external onlyOwner {
        require(newKeeper != address(0), "!newKeeper");
        keeper = newKeeper;
    }

    // -- deposits and withdrawals ------------------------------------------------------------------------

    function deposit(uint256 amount) external nonReentrant {
        require(amount > 0, "!amount");
        _depositFor(amount, msg.sender);
        require(IRibbonERC20(vaultParams.asset).transferFrom(msg.sender, address(this), amount), "transfer failed");
    }

    function depositFor(uint256 amount, address creditor) external nonReentrant {
        require(amount > 0, "!amount");
        require(creditor != address(0), "!creditor");
        _depositFor(amount, creditor);
        require(IRibbonERC20(vaultParams.asset).transferFrom(msg.sender, address(this), amount), "transfer failed");
    }

    function _depositFor(uint256 amount, address creditor) private {
        uint256 currentRound = vaultState.round;
        uint256 totalWithDepositedAmount = totalBalance() + amount;
        require(totalWithDepositedAmount <= vaultParams.cap, "Exceed cap");
        require(totalWithDepositedAmount >= vaultParams.minimumSupply, "Insufficient balance");

        emit Deposit(creditor, amount, currentRound);

        RibbonVaultLib.DepositReceipt memory depositReceipt = depositReceipts[creditor];
        // a pending deposit of an earlier round turns into unredeemed shares at that round's price
        uint256 unredeemedShares =
            depositReceipt.getSharesFromReceipt(currentRound, roundPricePerShare[depositReceipt.round], vaultParams.decimals);

        uint256 depositAmount = amount;
        if (currentRound == depositReceipt.round) {
            depositAmount = uint256(depositReceipt.amount) + amount;
        }
        RibbonShareMath.assertUint104(depositAmount);

        depositReceipts[creditor] = RibbonVaultLib.DepositReceipt({
            round: uint16(currentRound),
            amount: uint104(depositAmount),
            unredeemedShares: uint128(unredeemedShares)
        });

        uint256 newTotalPending = uint256(vaultState.totalPending) + amount;
        RibbonShareMath.assertUint128(newTotalPending);
        vaultState.totalPending = uint128(newTotalPending);
    }

    /// take back (part of) a deposit made in the current round, before it turns into shares
    function withdrawInstantly(uint256 amount) external nonReentrant {
        RibbonVaultLib.DepositReceipt storage depositReceipt = depositReceipts[msg.sender];
        uint256 currentRound = vaultState.round;
        require(amount > 0, "!amount");
        require(depositReceipt.round == currentRound, "Invalid round");
        uint256 receiptAmount = depositReceipt.amount;
        require(receiptAmount >= amount, "Exceed amount");
        depositReceipt.amount = uint104(receiptAmount - amount);
        vaultState.totalPending = uint128(uint256(vaultState.totalPending) - amount);
        emit InstantWithdraw(msg.sender, amount, currentRound);
        require(IRibbonERC20(vaultParams.asset).transfer(msg.sender, amount), "transfer failed");
    }

    /// queue shares for withdrawal at the end of the current round
    function initiateWithdraw(uint256 numShares) external nonReentrant {
        _initiateWithdraw(numShares);
        currentQueuedWithdrawShares = currentQueuedWithdrawShares + numShares;
    }

    function _initiateWithdraw(uint256 numShares) internal {
        require(numShares > 0, "!numShares");
        // redeem everything owed first, so the shares are in the account
        if (depositReceipts[msg.sender].amount > 0 || depositReceipts[msg.sender].unredeemedShares > 0) {
            _redeem(0, true);
        }
        uint256 currentRound = vaultState.round;
        RibbonVaultLib.Withdrawal storage withdrawal = withdrawals[msg.sender];
        bool withdrawalIsSameRound = withdrawal.round == currentRound;
        emit InitiateWithdraw(msg.sender, numShares, currentRound);
        uint256 existingShares = uint256(withdrawal.shares);
        uint256 withdrawalShares;
        if (withdrawalIsSameRound) {
            withdrawalShares = existingShares + numShares;
        } else {
            require(existingShares == 0, "Existing withdraw");
            withdrawalShares = numShares;
            withdrawals[msg.sender].round = uint16(currentRound);
        }
        RibbonShareMath.assertUint128(withdrawalShares);
        withdrawals[msg.sender].shares = uint128(withdrawalShares);
        _transfer(msg.sender, address(this), numShares);
    }

    /// pay out a withdrawal queued in a past round, at that round's closing price per share
    function completeWithdraw() external nonReentrant {
        uint256 withdrawAmount = _completeWithdraw();
        lastQueuedWithdrawAmount = lastQueuedWithdrawAmount - withdrawAmount;
    }

    function _completeWithdraw() internal returns (uint256) {
        RibbonVaultLib.Withdrawal storage withdrawal = withdrawals[msg.sender];
        uint256 withdrawalShares = withdrawal.shares;
        uint256 withdrawalRound = withdrawal.round;
        require(withdrawalShares > 0, "Not initiated");
        require(withdrawalRound < vaultState.round, "Round not closed");
        withdrawals[msg.sender].shares = 0;
        vaultState.queuedWithdrawShares = uint128(uint256(vaultState.queuedWithdrawShares) - withdrawalShares);
        uint256 withdrawAmount =
            RibbonShareMath.sharesToAsset(withdrawalShares, roundPricePerShare[withdrawalRound], vaultParams.decimals);
        emit Withdraw(msg.sender, withdrawAmount, withdrawalShares);
        _burn(address(this), withdrawalShares);
        require(withdrawAmount > 0, "!withdrawAmount");
        // SIMPLIFICATION: a WETH vault pays WETH (the real one unwraps and sends ETH)
        require(IRibbonERC20(vaultParams.asset).transfer(msg.sender, withdrawAmount), "transfer failed");
        return withdrawAmount;
    }

    function redeem(uint256 numShares) external nonReentrant {
        require(numShares > 0, "!numShares");
        _redeem(numShares, false);
    }

    function maxRedeem() external nonReentrant {
        _redeem(0, true);
    }

    function _redeem(uint256 numShares, bool isMax) internal {
        RibbonVaultLib.DepositReceipt memory depositReceipt = depositReceipts[msg.sender];
        uint256 currentRound = vaultState.round;
        uint256 unredeemedShares =
            depositReceipt.getSharesFromReceipt(currentRound, roundPricePerShare[depositReceipt.round], vaultParams.decimals);
        numShares = isMax ? unredeemedShares : numShares;
        if (numShares == 0) {
            return;
        }
        require(numShares <= unredeemedShares, "Exceeds available");
        // a receipt of a past round has been turned into shares: clear its amount
        if (depositReceipt.round < currentRound) {
            depositReceipts[msg.sender].amount = 0;
        }
        RibbonShareMath.assertUint128(numShares);
        depositReceipts[msg.sender].unredeemedShares = uint128(unredeemedShares - numShares);
        emit Redeem(msg.sender, numShares, depositReceipt.round);
        _transfer(address(this), msg.sender, numShares);
    }

    // -- round lifecycle ---------------------------------------------------------------------------------

    /// settle the expired short and pick the next option (anyone may call, as on mainnet)
    function commitAndClose() external nonReentrant {
        address oldOption = optionState.currentOption;
        uint256 expiry = _getNextExpiry(oldOption);
        // SIMPLIFICATION: the strike must have been set for this round with setStrikePrice
        require(lastStrikeOverrideRound == vaultState.round && overriddenStrikePrice > 0, "!strikePrice");
        uint256 strikePrice = overriddenStrikePrice;
        address otokenAddress = _getOrDeployOtoken(vaultParams.underlying, USDC, vaultParams.asset, strikePrice, expiry, vaultParams.isPut);
        emit NewOptionStrikeSelected(strikePrice, 0);
        optionState.nextOption = otokenAddress;
        uint256 nextOptionReady = block.timestamp + DELAY;
        require(nextOptionReady <= type(uint32).max, "Overflow nextOptionReady");
        optionState.nextOptionReadyAt = uint32(nextOptionReady);
        _closeShort(oldOption);
    }

    function _closeShort(address oldOption) private {
        uint256 lockedAmount = vaultState.lockedAmount;
        if (oldOption != address(0)) {
            vaultState.lastLockedAmount = uint104(lockedAmount);
        }
        vaultState.lockedAmount = 0;
        optionState.currentOption = address(0);
        if (oldOption != address(0)) {
            uint256 withdrawAmount = _settleShort();
            emit CloseShort(oldOption, withdrawAmount, msg.sender);
        }
    }

    /// close the round at its price per share and write the next option with everything not set aside
    function rollToNextOption() external onlyKeeper nonReentrant {
        uint256 currQueuedWithdrawShares = currentQueuedWithdrawShares;
        (address newOption, uint256 lockedBalance, uint256 queuedWithdrawAmount) =
            _rollToNextOption(lastQueuedWithdrawAmount, currQueuedWithdrawShares);
        lastQueuedWithdrawAmount = queuedWithdrawAmount;
        uint256 newQueuedWithdrawShares = uint256(vaultState.queuedWithdrawShares) + currQueuedWithdrawShares;
        RibbonShareMath.assertUint128(newQueuedWithdrawShares);
        vaultState.queuedWithdrawShares = uint128(newQueuedWithdrawShares);
        currentQueuedWithdrawShares = 0;
        RibbonShareMath.assertUint104(lockedBalance);
        vaultState.lockedAmount = uint104(lockedBalance);
        emit OpenShort(newOption, lockedBalance, msg.sender);
        _createShort(newOption, lockedBalance);
        // SIMPLIFICATION: the real vault now starts a Gnosis auction; here the keeper calls sellOptions
    }

    function _rollToNextOption(uint256 lastQueuedWithdrawAmount_, uint256 currentQueuedWithdrawShares_)
        internal
        returns (address newOption, uint256 lockedBalance, uint256 queuedWithdrawAmount)
    {
        require(block.timestamp >= optionState.nextOptionReadyAt, "!ready");
        newOption = optionState.nextOption;
        require(newOption != address(0), "!nextOption");

        uint256 currentBalance = totalBalance(); // SIMPLIFICATION: no vault fee is taken out of it
        uint256 pendingAmount = vaultState.totalPending;
        // shares queued in earlier rounds are already priced (their asset is lastQueuedWithdrawAmount)
        uint256 lastQueuedWithdrawShares = vaultState.queuedWithdrawShares;
        uint8 dec = vaultParams.decimals;
        uint256 newPricePerShare = RibbonShareMath.pricePerShare(
            totalSupply - lastQueuedWithdrawShares, currentBalance - lastQueuedWithdrawAmount_, pendingAmount, dec
        );
        queuedWithdrawAmount =
            lastQueuedWithdrawAmount_ + RibbonShareMath.sharesToAsset(currentQueuedWithdrawShares_, newPricePerShare, dec);
        uint256 mintShares = RibbonShareMath.assetToShares(pendingAmount, newPricePerShare, dec);

        optionState.currentOption = newOption;
        optionState.nextOption = address(0);
        uint256 currentRound = vaultState.round;
        roundPricePerShare[currentRound] = newPricePerShare;
        emit CollectVaultFees(0, 0, currentRound, feeRecipient);
        vaultState.totalPending = 0;
        vaultState.round = uint16(currentRound + 1);
        _mint(address(this), mintShares);
        lockedBalance = currentBalance - queuedWithdrawAmount;
    }

    /// SIMPLIFICATION: stands in for the Gnosis auction: the buyer pays `premium` of the asset for `amount` oTokens
    function sellOptions(address buyer, uint256 amount, uint256 premium) external onlyKeeper nonReentrant {
        address option = optionState.currentOption;
        require(option != address(0), "!currentOption");
        require(IRibbonERC20(vaultParams.asset).transferFrom(buyer, address(this), premium), "transfer failed");
        require(IRibbonERC20(option).transfer(buyer, amount), "transfer failed");
    }

    /// burn the oTokens left unsold and unlock their collateral
    function burnRemainingOTokens() external onlyKeeper nonReentrant {
        uint256 unlockedAssetAmount = _burnOtokens(optionState.currentOption);
        vaultState.lockedAmount = uint104(uint256(vaultState.lockedAmount) - unlockedAssetAmount);
    }

    // -- Gamma plumbing (VaultLifecycle) -----------------------------------------------------------------

    function _createShort(address oTokenAddress, uint256 depositAmount) internal returns (uint256) {
        IRibbonGammaController controller = IRibbonGammaController(GAMMA_CONTROLLER);
        uint256 newVaultID = controller.getAccountVaultCounter(address(this)) + 1;
        IRibbonOtoken oToken = IRibbonOtoken(oTokenAddress);
        address collateralAsset = oToken.collateralAsset();
        uint256 collateralDecimals = uint256(IRibbonERC20(collateralAsset).decimals());
        uint256 mintAmount;
        if (oToken.isPut()) {
            mintAmount = (depositAmount * 10 ** RibbonVaultLib.OTOKEN_DECIMALS * 10 ** 18)
                / (oToken.strikePrice() * 10 ** (10 + collateralDecimals));
        } else {
            mintAmount = depositAmount;
            if (collateralDecimals > 8) {
                uint256 scaleBy = 10 ** (collateralDecimals - 8);
                if (mintAmount > scaleBy) {
                    mintAmount = depositAmount / scaleBy;
                }
            }
        }
        if (mintAmount == 0) return 0; // nothing to write this round

        require(IRibbonERC20(collateralAsset).approve(MARGIN_POOL, depositAmount), "approve failed");
        IRibbonGammaController.ActionArgs[] memory actions = new IRibbonGammaController.ActionArgs[](3);
        actions[0] = IRibbonGammaController.ActionArgs(
            IRibbonGammaController.ActionType.OpenVault, address(this), address(this), address(0), newVaultID, 0, 0, ""
        );
        actions[1] = IRibbonGammaController.ActionArgs(
            IRibbonGammaController.ActionType.DepositCollateral, address(this), address(this), collateralAsset, newVaultID, depositAmount, 0, ""
        );
        actions[2] = IRibbonGammaController.ActionArgs(
            IRibbonGammaController.ActionType.MintShortOption, address(this), address(this), oTokenAddress, newVaultID, mintAmount, 0, ""
        );
        controller.operate(actions);
        return mintAmount;
    }

    function _settleShort() internal returns (uint256) {
        IRibbonGammaController controller = IRibbonGammaController(GAMMA_CONTROLLER);
        uint256 vaultID = controller.getAccountVaultCounter(address(this));
        IRibbonGammaController.Vault memory vault = controller.getVault(address(this), vaultID);
        require(vault.shortOtokens.length > 0, "No short");
        IRibbonERC20 collateralToken = IRibbonERC20(vault.collateralAssets[0]);
        if (address(collateralToken) == address(0)) {
            return 0;
        }
        uint256 startCollateralBalance = collateralToken.balanceOf(address(this));
        IRibbonGammaController.ActionArgs[] memory actions = new IRibbonGammaController.ActionArgs[](1);
        actions[0] = IRibbonGammaController.ActionArgs(
            IRibbonGammaController.ActionType.SettleVault, address(this), address(this), address(0), vaultID, 0, 0, ""
        );
        controller.operate(actions);
        return collateralToken.balanceOf(address(this)) - startCollateralBalance;
    }

    function _burnOtokens(address currentOption) internal returns (uint256) {
        uint256 numOTokensToBurn = IRibbonERC20(currentOption).balanceOf(address(this));
        require(numOTokensToBurn > 0, "No oTokens to burn");
        IRibbonGammaController controller = IRibbonGammaController(GAMMA_CONTROLLER);
        uint256 vaultID = controller.getAccountVaultCounter(address(this));
        IRibbonGammaController.Vault memory vault = controller.getVault(address(this), vaultID);
        require(vault.shortOtokens.length > 0, "No short");
        IRibbonERC20 collateralToken = IRibbonERC20(vault.collateralAssets[0]);
        uint256 startCollateralBalance = collateralToken.balanceOf(address(this));
        IRibbonGammaController.ActionArgs[] memory actions = new IRibbonGammaController.ActionArgs[](2);
        actions[0] = IRibbonGammaController.ActionArgs(
            IRibbonGammaController.ActionType.BurnShortOption, address(this), address(this), vault.shortOtokens[0], vaultID, numOTokensToBurn, 0, ""
        );
        actions[1] = IRibbonGammaController.ActionArgs(
            IRibbonGammaController.ActionType.WithdrawCollateral,
            address(this),
            address(this),
            address(collateralToken),
            vaultID,
            (vault.collateralAmounts[0] * numOTokensToBurn) / vault.shortAmounts[0],
            0,
            ""
        );
        controller.operate(actions);
        return collateralToken.balanceOf(address(this)) - startCollateralBalance;
    }

    function _getOrDeployOtoken(
        address underlying,
        address strikeAsset,
        address collateralAsset,
        uint256 strikePrice,
        uint256 expiry,
        bool isPut
    ) internal returns (address) {
        IRibbonOtokenFactory factory = IRibbonOtokenFactory(OTOKEN_FACTORY);
        address existing = factory.getOtoken(underlying, strikeAsset, collateralAsset, strikePrice, expiry, isPut);
        if (existing != address(0)) {
            return existing;
        }
        return factory.createOtoken(underlying, strikeAsset, collateralAsset, strikePrice, expiry, isPut);
    }

    /// the Friday 08:00 UTC after the current option's expiry (or after now, when there is none or it is stale)
    function _getNextExpiry(address currentOption) internal view returns (uint256) {
        if (currentOption == address(0)) {
            return _getNextFriday(block.timestamp);
        }
        uint256 currentExpiry = IRibbonOtoken(currentOption).expiryTimestamp();
        if (block.timestamp > currentExpiry + 7 days) {
            return _getNextFriday(block.timestamp);
        }
        return _getNextFriday(currentExpiry);
    }

    function _getNextFriday(uint256 timestamp) internal pure returns (uint256) {
        uint256 dayOfWeek = ((timestamp / 1 days) + 4) % 7; // 0 = Sunday
        uint256 nextFriday = timestamp + ((7 + 5 - dayOfWeek) % 7) * 1 days;
        uint256 friday8am = nextFriday - (nextFriday % (24 hours)) + (8 hours);
        if (timestamp >= friday8am) {
            friday8am += 7 days;
        }
        return friday8am;
    }

    // -- getters -----------------------------------------------------------------------------------------

    /// asset value of the account's shares (held plus unredeemed) at the current price per share
    function accountVaultBalance(address account) external view returns (uint256) {
        uint256 _decimals = vaultParams.decimals;
        uint256 assetPerShare = RibbonShareMath.pricePerShare(totalSupply, totalBalance(), vaultState.totalPending, _decimals);
        return RibbonShareMath.sharesToAsset(shares(account), assetPerShare, _decimals);
    }

    function shares(address account) public view returns (uint256) {
        (uint256 heldByAccount, uint256 heldByVault) = shareBalances(account);
        return heldByAccount + heldByVault;
    }

    function shareBalances(address account) public view returns (uint256 heldByAccount, uint256 heldByVault) {
        RibbonVaultLib.DepositReceipt memory depositReceipt = depositReceipts[account];
        if (depositReceipt.round < RibbonShareMath.PLACEHOLDER_UINT) {
            return (balanceOf[account], 0);
        }
        uint256 unredeemedShares =
            depositReceipt.getSharesFromReceipt(vaultState.round, roundPricePerShare[depositReceipt.round], vaultParams.decimals);
        return (balanceOf[account], unredeemedShares);
    }

    function pricePerShare() external view returns (uint256) {
        return RibbonShareMath.pricePerShare(totalSupply, totalBalance(), vaultState.totalPending, vaultParams.decimals);
    }

    function totalBalance() public view returns (uint256) {
        return uint256(vaultState.lockedAmount) + IRibbonERC20(vaultParams.asset).balanceOf(address(this));
    }

    function cap() external view returns (uint256) {
        return vaultParams.cap;
    }

    function nextOptionReadyAt() external view returns (uint256) {
        return optionState.nextOptionReadyAt;
    }

    function currentOption() external view returns (address) {
        return optionState.currentOption;
    }

    function nextOption() external view returns (address) {
        return optionState.nextOption;
    }

    function totalPending() external view returns (uint256) {
        return vaultState.totalPending;
    }
}
