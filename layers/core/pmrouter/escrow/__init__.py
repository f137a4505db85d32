"""Fee escrow on builder orders: verify the payer's PullFee authorization, hold the fee with the
order, and settle it exactly once when the order is done."""
