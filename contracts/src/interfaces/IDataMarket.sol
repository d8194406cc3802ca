// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IDataMarket
/// @notice Owner-set offers, licence sales and pull payments (R6, R9, R10, R66). A licence is a record of a
/// right to compute; buying one never moves the NFT.
interface IDataMarket {
    /// @notice Licence terms an owner puts on sale. `currency` zero means the native currency.
    struct OfferTerms {
        uint128 price;
        address currency;
        uint64 duration;
        uint32 maxJobs;
        uint64 epsilonBudgetMilli;
        uint32 purposes;
    }

    /// @notice An offer on chain. `owner` is who owned the asset when it was set and who is paid; `tenure` is
    /// the asset's `transfers` count then. The offer lapses for good once the asset changes hands, even if it
    /// later comes back to `owner` (tenure differs).
    struct Offer {
        address currency;
        uint64 duration;
        uint32 maxJobs;
        uint128 price;
        uint64 epsilonBudgetMilli;
        uint32 purposes;
        bool active;
        address owner;
        uint32 tenure;
    }

    /// @notice A bought licence. `tokenId` and `offerId` are stored narrow for packing (two slots).
    struct Licence {
        address buyer;
        uint32 jobsLeft;
        uint64 epsilonLeftMilli;
        uint64 tokenId;
        uint64 expiresAt;
        uint32 offerId;
        uint32 purposes;
        uint64 purchasedAt;
    }

    /// @notice `account` is neither the owner nor the delegate of `tokenId`.
    error DataMarketNotAssetManager(uint256 tokenId, address account);
    /// @notice Offer `offerId` of `tokenId` does not exist.
    error DataMarketUnknownOffer(uint256 tokenId, uint256 offerId);
    /// @notice Offer `offerId` of `tokenId` was withdrawn, or the asset changed hands since it was set.
    error DataMarketOfferInactive(uint256 tokenId, uint256 offerId);
    /// @notice Zero duration, zero job quota or no allowed purpose.
    error DataMarketInvalidOfferTerms(uint256 tokenId, uint64 duration, uint32 maxJobs, uint32 purposes);
    /// @notice `currency` is not an allowed ERC-20 payment token.
    error DataMarketCurrencyNotAllowed(address currency);
    /// @notice `currency` cannot be allow-listed (zero address or not a contract).
    error DataMarketInvalidCurrency(address currency);
    /// @notice The asset was revoked.
    error DataMarketAssetRevoked(uint256 tokenId);
    /// @notice The asset is frozen.
    error DataMarketAssetFrozen(uint256 tokenId);
    /// @notice Native payment must be exactly `expected`; `sent` was sent.
    error DataMarketWrongPayment(uint256 expected, uint256 sent);
    /// @notice The ERC-20 transfer delivered `received` instead of `expected` (fee-on-transfer tokens are refused).
    error DataMarketPaymentShortfall(address currency, uint256 expected, uint256 received);
    /// @notice Licence `licenceId` does not exist.
    error DataMarketUnknownLicence(uint256 licenceId);
    /// @notice Licence `licenceId` expired at `expiresAt`.
    error DataMarketLicenceExpired(uint256 licenceId, uint64 expiresAt);
    /// @notice Licence `licenceId` has no jobs left.
    error DataMarketJobQuotaExhausted(uint256 licenceId);
    /// @notice Licence `licenceId` has `left` milli-ε, less than the `requested` spend.
    error DataMarketEpsilonBudgetExceeded(uint256 licenceId, uint64 left, uint64 requested);
    /// @notice `account` has nothing to withdraw in `currency`.
    error DataMarketNothingToWithdraw(address account, address currency);
    /// @notice Sending `amount` of the native currency to `account` failed.
    error DataMarketTransferFailed(address account, uint256 amount);
    /// @notice The platform fee `feeBps` exceeds `maxFeeBps`.
    error DataMarketFeeTooHigh(uint256 feeBps, uint256 maxFeeBps);
    /// @notice The treasury may not be the zero address.
    error DataMarketZeroTreasury();

    /// @notice An offer was put on chain for `tokenId` by `by` on behalf of `owner`, who will be paid.
    event OfferSet(
        uint256 indexed tokenId,
        uint256 indexed offerId,
        address indexed owner,
        address by,
        uint128 price,
        address currency,
        uint64 duration,
        uint32 maxJobs,
        uint64 epsilonBudgetMilli,
        uint32 purposes
    );
    /// @notice Offer `offerId` of `tokenId` was withdrawn by `by`.
    event OfferWithdrawn(uint256 indexed tokenId, uint256 indexed offerId, address indexed by);
    /// @notice `buyer` bought licence `licenceId` on `tokenId` under `offerId`, paying `price` in `currency`,
    /// of which `fee` went to the treasury and the rest to `owner` (as withdrawable balances).
    event LicencePurchased(
        uint256 indexed licenceId,
        uint256 indexed tokenId,
        address indexed buyer,
        uint256 offerId,
        address owner,
        address currency,
        uint256 price,
        uint256 fee,
        uint64 expiresAt
    );
    /// @notice A recorded job `jobId` spent one job and `epsilonSpentMilli` of licence `licenceId`.
    event LicenceConsumed(
        uint256 indexed licenceId, bytes32 indexed jobId, uint32 jobsLeft, uint64 epsilonLeftMilli, uint64 epsilonSpentMilli
    );
    /// @notice `account` withdrew `amount` of `currency` (zero: native).
    event PaymentWithdrawn(address indexed account, address indexed currency, uint256 amount);
    /// @notice The admin changed the platform fee.
    event PlatformFeeSet(uint16 previousFeeBps, uint16 newFeeBps);
    /// @notice The admin changed the treasury.
    event TreasurySet(address indexed previousTreasury, address indexed newTreasury);
    /// @notice The admin allowed or disallowed ERC-20 `currency` for new offers and purchases.
    event CurrencyAllowed(address indexed currency, bool allowed);

    /// @notice Role held by the ComputeLedger: may consume licences.
    function LEDGER_ROLE() external view returns (bytes32);
    /// @notice Highest platform fee the admin may set, in basis points.
    function MAX_PLATFORM_FEE_BPS() external view returns (uint16);

    /// @notice Puts a new offer for `tokenId` on chain. Owner or delegate; the owner is paid. Offers are
    /// immutable once set: change terms by withdrawing and setting a new one.
    /// @return offerId The offer's id, per token, starting at 1.
    function setOffer(uint256 tokenId, OfferTerms calldata terms) external returns (uint256 offerId);
    /// @notice Withdraws an offer (R70: an owner can always withdraw a listing, even while paused). Owner or delegate.
    function withdrawOffer(uint256 tokenId, uint256 offerId) external;
    /// @notice Buys a licence under offer `offerId` of `tokenId`, paying exactly the price (native: `msg.value`;
    /// ERC-20: pulled with `transferFrom`, `msg.value` must be 0). The NFT does not move.
    /// @return licenceId The licence id, starting at 1.
    function buyLicence(uint256 tokenId, uint256 offerId) external payable returns (uint256 licenceId);
    /// @notice Pays out the caller's whole balance in `currency` (zero: native). Open even while paused.
    /// @return amount The amount paid.
    function withdraw(address currency) external returns (uint256 amount);
    /// @notice Spends one job and `epsilonMilli` of licence `licenceId` for job `jobId`, after checking the
    /// licence is live and the asset neither revoked nor frozen. Ledger only.
    /// @return contentHash The content hash of the licensed asset, for the ledger to compare with the receipt.
    function consumeLicence(uint256 licenceId, bytes32 jobId, uint64 epsilonMilli) external returns (bytes32 contentHash);
    /// @notice Sets the platform fee in basis points (at most `MAX_PLATFORM_FEE_BPS`). Admin only.
    function setPlatformFee(uint16 feeBps) external;
    /// @notice Sets the account that receives platform fees. Admin only.
    function setTreasury(address treasury) external;
    /// @notice Allows or disallows ERC-20 `currency`. Admin only; the native currency is always allowed.
    function setCurrencyAllowed(address currency, bool allowed) external;

    /// @notice Offer `offerId` of `tokenId`; reverts when it does not exist.
    function offer(uint256 tokenId, uint256 offerId) external view returns (Offer memory);
    /// @notice Number of offers ever set for `tokenId` (the latest offer id).
    function offerCount(uint256 tokenId) external view returns (uint256);
    /// @notice Licence `licenceId`; reverts when it does not exist.
    function licence(uint256 licenceId) external view returns (Licence memory);
    /// @notice Number of licences sold (the latest licence id).
    function licenceCount() external view returns (uint256);
    /// @notice True when licence `licenceId` exists, is unexpired, has a job left and its asset is neither
    /// revoked nor frozen.
    function isLicenceLive(uint256 licenceId) external view returns (bool);
    /// @notice What `account` can withdraw in `currency`.
    function pendingWithdrawal(address account, address currency) external view returns (uint256);
    /// @notice True when ERC-20 `currency` is allowed.
    function isCurrencyAllowed(address currency) external view returns (bool);
    /// @notice The platform fee in basis points.
    function platformFeeBps() external view returns (uint16);
    /// @notice The account that receives platform fees.
    function treasury() external view returns (address);
    /// @notice The DataAssetNFT whose assets this market licenses.
    function assets() external view returns (address);
}
