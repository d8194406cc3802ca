// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {StillflowRoles} from "./base/StillflowRoles.sol";
import {IDataMarket} from "./interfaces/IDataMarket.sol";
import {IDataAssetNFT} from "./interfaces/IDataAssetNFT.sol";

/// @title DataMarket
/// @notice Holds offers, licences and the pull-payment balances of owners and the treasury, plus the
/// platform fee, the treasury address and the ERC-20 allow-list. Never holds or moves NFTs (R6).
contract DataMarket is StillflowRoles, ReentrancyGuardTransient, IDataMarket {
    using SafeERC20 for IERC20;

    /// @inheritdoc IDataMarket
    bytes32 public constant LEDGER_ROLE = keccak256("LEDGER_ROLE");
    /// @inheritdoc IDataMarket
    uint16 public constant MAX_PLATFORM_FEE_BPS = 1000;
    uint256 private constant BPS = 10_000;

    IDataAssetNFT private immutable _assets;
    address private _treasury;
    uint16 private _platformFeeBps;
    uint256 private _licenceCount;
    mapping(address currency => bool) private _allowedCurrencies;
    mapping(uint256 tokenId => uint256) private _offerCounts;
    mapping(uint256 tokenId => mapping(uint256 offerId => Offer)) private _offers;
    mapping(uint256 licenceId => Licence) private _licences;
    mapping(address currency => mapping(address account => uint256)) private _pending;

    /// @param admin Governance account (fees, treasury, currencies, pause).
    /// @param relayer The operator's bookkeeping key.
    /// @param supervisor The supervisor key.
    /// @param assets_ The DataAssetNFT.
    /// @param ledger The ComputeLedger, granted `LEDGER_ROLE` (the deploy script predicts its address).
    /// @param treasury_ Receives the platform fee.
    /// @param platformFeeBps_ Platform fee in basis points.
    constructor(
        address admin,
        address relayer,
        address supervisor,
        IDataAssetNFT assets_,
        address ledger,
        address treasury_,
        uint16 platformFeeBps_
    ) StillflowRoles(admin, relayer, supervisor) {
        _assets = assets_;
        _grantRole(LEDGER_ROLE, ledger);
        _setTreasury(treasury_);
        _setPlatformFee(platformFeeBps_);
    }

    /// @inheritdoc IDataMarket
    function setOffer(uint256 tokenId, OfferTerms calldata terms) external whenNotPaused returns (uint256 offerId) {
        (address owner,, bool revoked, bool frozen, uint32 tenure) = _assets.assetInfo(tokenId);
        if (msg.sender != owner && !_assets.isAssetManager(tokenId, msg.sender)) {
            revert DataMarketNotAssetManager(tokenId, msg.sender);
        }
        if (revoked) revert DataMarketAssetRevoked(tokenId);
        if (frozen) revert DataMarketAssetFrozen(tokenId);
        if (terms.duration == 0 || terms.maxJobs == 0 || terms.purposes == 0) {
            revert DataMarketInvalidOfferTerms(tokenId, terms.duration, terms.maxJobs, terms.purposes);
        }
        if (terms.currency != address(0) && !_allowedCurrencies[terms.currency]) {
            revert DataMarketCurrencyNotAllowed(terms.currency);
        }
        offerId = ++_offerCounts[tokenId];
        _offers[tokenId][offerId] = Offer({
            currency: terms.currency,
            duration: terms.duration,
            maxJobs: terms.maxJobs,
            price: terms.price,
            epsilonBudgetMilli: terms.epsilonBudgetMilli,
            purposes: terms.purposes,
            active: true,
            owner: owner,
            tenure: tenure
        });
        emit OfferSet(
            tokenId,
            offerId,
            owner,
            msg.sender,
            terms.price,
            terms.currency,
            terms.duration,
            terms.maxJobs,
            terms.epsilonBudgetMilli,
            terms.purposes
        );
    }

    /// @inheritdoc IDataMarket
    function withdrawOffer(uint256 tokenId, uint256 offerId) external {
        if (!_assets.isAssetManager(tokenId, msg.sender)) revert DataMarketNotAssetManager(tokenId, msg.sender);
        Offer storage o = _existingOffer(tokenId, offerId);
        if (!o.active) revert DataMarketOfferInactive(tokenId, offerId);
        o.active = false;
        emit OfferWithdrawn(tokenId, offerId, msg.sender);
    }

    /// @inheritdoc IDataMarket
    function buyLicence(uint256 tokenId, uint256 offerId)
        external
        payable
        whenNotPaused
        nonReentrant
        returns (uint256 licenceId)
    {
        Offer storage o = _existingOffer(tokenId, offerId);
        (address owner,, bool revoked, bool frozen, uint32 transfers) = _assets.assetInfo(tokenId);
        // The owner check alone would let an offer sell again after the token went away and came back.
        if (!o.active || o.owner != owner || o.tenure != transfers) revert DataMarketOfferInactive(tokenId, offerId);
        if (revoked) revert DataMarketAssetRevoked(tokenId);
        if (frozen) revert DataMarketAssetFrozen(tokenId);

        uint256 price = o.price;
        address currency = o.currency;
        if (currency == address(0)) {
            if (msg.value != price) revert DataMarketWrongPayment(price, msg.value);
        } else {
            if (msg.value != 0) revert DataMarketWrongPayment(0, msg.value);
            if (!_allowedCurrencies[currency]) revert DataMarketCurrencyNotAllowed(currency);
            IERC20 token = IERC20(currency);
            uint256 before = token.balanceOf(address(this));
            token.safeTransferFrom(msg.sender, address(this), price);
            uint256 received = token.balanceOf(address(this)) - before;
            if (received != price) revert DataMarketPaymentShortfall(currency, price, received);
        }

        address treasury_ = _treasury;
        uint256 fee = (price * _platformFeeBps) / BPS;
        if (fee != 0) _pending[currency][treasury_] += fee;
        if (price != fee) _pending[currency][owner] += price - fee;

        licenceId = ++_licenceCount;
        uint64 expiresAt = uint64(block.timestamp) + o.duration;
        _licences[licenceId] = Licence({
            buyer: msg.sender,
            jobsLeft: o.maxJobs,
            epsilonLeftMilli: o.epsilonBudgetMilli,
            tokenId: uint64(tokenId),
            expiresAt: expiresAt,
            offerId: uint32(offerId),
            purposes: o.purposes,
            purchasedAt: uint64(block.timestamp)
        });
        emit LicencePurchased(licenceId, tokenId, msg.sender, offerId, owner, currency, price, fee, expiresAt);
    }

    /// @inheritdoc IDataMarket
    function withdraw(address currency) external nonReentrant returns (uint256 amount) {
        amount = _pending[currency][msg.sender];
        if (amount == 0) revert DataMarketNothingToWithdraw(msg.sender, currency);
        _pending[currency][msg.sender] = 0;
        emit PaymentWithdrawn(msg.sender, currency, amount);
        if (currency == address(0)) {
            (bool ok,) = msg.sender.call{value: amount}("");
            if (!ok) revert DataMarketTransferFailed(msg.sender, amount);
        } else {
            IERC20(currency).safeTransfer(msg.sender, amount);
        }
    }

    /// @inheritdoc IDataMarket
    function consumeLicence(uint256 licenceId, bytes32 jobId, uint64 epsilonMilli)
        external
        onlyRole(LEDGER_ROLE)
        returns (bytes32 contentHash)
    {
        Licence storage l = _licences[licenceId];
        address buyer = l.buyer;
        if (buyer == address(0)) revert DataMarketUnknownLicence(licenceId);
        uint64 expiresAt = l.expiresAt;
        if (block.timestamp >= expiresAt) revert DataMarketLicenceExpired(licenceId, expiresAt);
        uint32 jobsLeft = l.jobsLeft;
        if (jobsLeft == 0) revert DataMarketJobQuotaExhausted(licenceId);
        uint64 epsilonLeft = l.epsilonLeftMilli;
        if (epsilonMilli > epsilonLeft) revert DataMarketEpsilonBudgetExceeded(licenceId, epsilonLeft, epsilonMilli);
        uint256 tokenId = l.tokenId;
        bool revoked;
        bool frozen;
        (contentHash, revoked, frozen) = _assets.assetStatus(tokenId);
        if (revoked) revert DataMarketAssetRevoked(tokenId);
        if (frozen) revert DataMarketAssetFrozen(tokenId);
        unchecked {
            jobsLeft -= 1;
            epsilonLeft -= epsilonMilli;
        }
        l.jobsLeft = jobsLeft;
        l.epsilonLeftMilli = epsilonLeft;
        emit LicenceConsumed(licenceId, jobId, jobsLeft, epsilonLeft, epsilonMilli);
    }

    /// @inheritdoc IDataMarket
    function setPlatformFee(uint16 feeBps) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setPlatformFee(feeBps);
    }

    /// @inheritdoc IDataMarket
    function setTreasury(address treasury_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setTreasury(treasury_);
    }

    /// @inheritdoc IDataMarket
    function setCurrencyAllowed(address currency, bool allowed) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (currency == address(0) || currency.code.length == 0) revert DataMarketInvalidCurrency(currency);
        _allowedCurrencies[currency] = allowed;
        emit CurrencyAllowed(currency, allowed);
    }

    /// @inheritdoc IDataMarket
    function offer(uint256 tokenId, uint256 offerId) external view returns (Offer memory) {
        return _existingOffer(tokenId, offerId);
    }

    /// @inheritdoc IDataMarket
    function offerCount(uint256 tokenId) external view returns (uint256) {
        return _offerCounts[tokenId];
    }

    /// @inheritdoc IDataMarket
    function licence(uint256 licenceId) external view returns (Licence memory) {
        Licence storage l = _licences[licenceId];
        if (l.buyer == address(0)) revert DataMarketUnknownLicence(licenceId);
        return l;
    }

    /// @inheritdoc IDataMarket
    function licenceCount() external view returns (uint256) {
        return _licenceCount;
    }

    /// @inheritdoc IDataMarket
    function isLicenceLive(uint256 licenceId) external view returns (bool) {
        Licence storage l = _licences[licenceId];
        if (l.buyer == address(0) || block.timestamp >= l.expiresAt || l.jobsLeft == 0) return false;
        (,, bool revoked, bool frozen,) = _assets.assetInfo(l.tokenId);
        return !revoked && !frozen;
    }

    /// @inheritdoc IDataMarket
    function pendingWithdrawal(address account, address currency) external view returns (uint256) {
        return _pending[currency][account];
    }

    /// @inheritdoc IDataMarket
    function isCurrencyAllowed(address currency) external view returns (bool) {
        return _allowedCurrencies[currency];
    }

    /// @inheritdoc IDataMarket
    function platformFeeBps() external view returns (uint16) {
        return _platformFeeBps;
    }

    /// @inheritdoc IDataMarket
    function treasury() external view returns (address) {
        return _treasury;
    }

    /// @inheritdoc IDataMarket
    function assets() external view returns (address) {
        return address(_assets);
    }

    function _existingOffer(uint256 tokenId, uint256 offerId) private view returns (Offer storage o) {
        o = _offers[tokenId][offerId];
        if (o.owner == address(0)) revert DataMarketUnknownOffer(tokenId, offerId);
    }

    function _setPlatformFee(uint16 feeBps) private {
        if (feeBps > MAX_PLATFORM_FEE_BPS) revert DataMarketFeeTooHigh(feeBps, MAX_PLATFORM_FEE_BPS);
        emit PlatformFeeSet(_platformFeeBps, feeBps);
        _platformFeeBps = feeBps;
    }

    function _setTreasury(address treasury_) private {
        if (treasury_ == address(0)) revert DataMarketZeroTreasury();
        emit TreasurySet(_treasury, treasury_);
        _treasury = treasury_;
    }
}
