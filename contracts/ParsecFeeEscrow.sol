// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @notice The ERC-20 calls the escrow makes. USDC answers `true`; tokens that answer nothing are
/// accepted too (see _call), so the same contract works with any USDC-like token.
interface IERC20Minimal {
    function transfer(address to, uint256 amount) external returns (bool);
    function transferFrom(address from, address to, uint256 amount) external returns (bool);
}

/// @title Fee escrow for builder orders (Parsec API's ParsecFeeEscrow behaviour).
/// @notice The payer signs an EIP-712 `PullFee(bytes32 orderId,address payer,uint256 feeAmount,uint256 deadline)`
/// under the domain {name: "ParsecFeeEscrow", version: "1", chainId, verifyingContract: this}. The operator's
/// settlement key submits it: the fee moves from the payer into this contract once per order id. When the
/// order is done the operator distributes it (affiliate share, treasury share, refund of the unfilled part)
/// or refunds it in full (cancel). Nobody else can move escrowed funds, and every order id is settled once.
contract ParsecFeeEscrow {
    enum Status { None, Held, Distributed, Refunded }

    struct FeeRecord {
        address payer;
        uint256 amount;
        Status status;
    }

    bytes32 private constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 public constant PULL_FEE_TYPEHASH =
        keccak256("PullFee(bytes32 orderId,address payer,uint256 feeAmount,uint256 deadline)");
    // Upper half of the secp256k1 order: signatures with a high s are the malleable twin of a low-s one.
    uint256 private constant HALF_N = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0;

    IERC20Minimal public immutable usdc;
    address public immutable operator;
    address public immutable treasury;

    mapping(bytes32 => FeeRecord) public feeRecords;

    event FeePulled(bytes32 indexed orderId, address indexed payer, uint256 amount);
    event FeeDistributed(bytes32 indexed orderId, address indexed affiliate, uint256 affiliateAmount,
                         uint256 treasuryAmount, uint256 refundAmount);
    event FeeRefunded(bytes32 indexed orderId, address indexed payer, uint256 amount);

    error NotOperator();
    error ZeroAddress();
    error ZeroAmount();
    error AuthorizationExpired();
    error InvalidSignature();
    error AlreadyPulled(bytes32 orderId);
    error NotHeld(bytes32 orderId);
    error SharesMismatch(uint256 held, uint256 shares);
    error TokenTransferFailed();
    error NotAContract(address account);

    modifier onlyOperator() {
        if (msg.sender != operator) revert NotOperator();
        _;
    }

    constructor(address usdc_, address operator_, address treasury_) {
        if (usdc_ == address(0) || operator_ == address(0) || treasury_ == address(0)) revert ZeroAddress();
        // A call to an address without code "succeeds" with no answer: the token must be a contract.
        if (usdc_.code.length == 0) revert NotAContract(usdc_);
        usdc = IERC20Minimal(usdc_);
        operator = operator_;
        treasury = treasury_;
    }

    function domainSeparator() public view returns (bytes32) {
        // Computed each time rather than cached, so a fork onto another chain id cannot replay signatures.
        return keccak256(abi.encode(DOMAIN_TYPEHASH, keccak256("ParsecFeeEscrow"), keccak256("1"), block.chainid,
                                    address(this)));
    }

    function pullFeeDigest(bytes32 orderId, address payer, uint256 feeAmount, uint256 deadline)
        public view returns (bytes32)
    {
        bytes32 structHash = keccak256(abi.encode(PULL_FEE_TYPEHASH, orderId, payer, feeAmount, deadline));
        return keccak256(abi.encodePacked("\x19\x01", domainSeparator(), structHash));
    }

    /// @notice Move the signed fee from the payer into escrow. A second pull of the same order id reverts,
    /// whatever state the first one reached.
    function pullFee(bytes32 orderId, address payer, uint256 feeAmount, uint256 deadline, bytes calldata signature)
        external onlyOperator
    {
        if (feeRecords[orderId].status != Status.None) revert AlreadyPulled(orderId);
        if (payer == address(0)) revert ZeroAddress();
        if (feeAmount == 0) revert ZeroAmount();
        if (block.timestamp > deadline) revert AuthorizationExpired();
        if (_recover(pullFeeDigest(orderId, payer, feeAmount, deadline), signature) != payer) revert InvalidSignature();
        feeRecords[orderId] = FeeRecord(payer, feeAmount, Status.Held);
        _call(abi.encodeCall(IERC20Minimal.transferFrom, (payer, address(this), feeAmount)));
        emit FeePulled(orderId, payer, feeAmount);
    }

    /// @notice Settle a held fee: the three amounts must add up to exactly what was pulled.
    function distribute(bytes32 orderId, address affiliate, uint256 affiliateAmount, uint256 treasuryAmount,
                        uint256 refundAmount) external onlyOperator
    {
        FeeRecord storage rec = feeRecords[orderId];
        if (rec.status != Status.Held) revert NotHeld(orderId);
        uint256 sum = affiliateAmount + treasuryAmount + refundAmount;
        if (sum != rec.amount) revert SharesMismatch(rec.amount, sum);
        if (affiliateAmount > 0 && affiliate == address(0)) revert ZeroAddress();
        rec.status = Status.Distributed;
        if (affiliateAmount > 0) _call(abi.encodeCall(IERC20Minimal.transfer, (affiliate, affiliateAmount)));
        if (treasuryAmount > 0) _call(abi.encodeCall(IERC20Minimal.transfer, (treasury, treasuryAmount)));
        if (refundAmount > 0) _call(abi.encodeCall(IERC20Minimal.transfer, (rec.payer, refundAmount)));
        emit FeeDistributed(orderId, affiliate, affiliateAmount, treasuryAmount, refundAmount);
    }

    /// @notice Cancelled order: the whole fee goes back to the payer.
    function refund(bytes32 orderId) external onlyOperator {
        FeeRecord storage rec = feeRecords[orderId];
        if (rec.status != Status.Held) revert NotHeld(orderId);
        rec.status = Status.Refunded;
        _call(abi.encodeCall(IERC20Minimal.transfer, (rec.payer, rec.amount)));
        emit FeeRefunded(orderId, rec.payer, rec.amount);
    }

    function _recover(bytes32 digest, bytes calldata signature) private pure returns (address) {
        if (signature.length != 65) revert InvalidSignature();
        bytes32 r = bytes32(signature[0:32]);
        bytes32 s = bytes32(signature[32:64]);
        uint8 v = uint8(signature[64]);
        if (v < 27) v += 27;  // some signers give the recovery id as 0/1
        if (uint256(s) > HALF_N || (v != 27 && v != 28)) revert InvalidSignature();
        address signer = ecrecover(digest, v, r, s);
        if (signer == address(0)) revert InvalidSignature();
        return signer;
    }

    /// @dev ERC-20 call that accepts both `true` and an empty answer, and refuses `false` and reverts.
    function _call(bytes memory data) private {
        (bool ok, bytes memory ret) = address(usdc).call(data);
        if (!ok || (ret.length > 0 && !abi.decode(ret, (bool)))) revert TokenTransferFailed();
    }
}
