"""Cash and shares behind the sandbox's on-chain CTF venues (Limitless, Opinion, Predict.fun): an
account's collateral and outcome tokens, what its resting orders lock, and settlement of the shared
matching engine's fills. Venue simulators keep only their wire formats and checks around it.

Amounts are Decimals in whole units (dollars, shares). The market maker ("market-maker") seeds the
books and has no wallet. A new account receives the faucet the first time it is seen.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from decimal import Decimal

from .matching import Fill, MatchingEngine, Order, Rejected

MM = "market-maker"


class NotEnoughBalance(Exception):
    pass


@dataclass
class Wallet:
    cash: Decimal
    locked: Decimal = Decimal(0)
    shares: dict[str, Decimal] = field(default_factory=dict)  # instrument -> free shares
    locked_shares: dict[str, Decimal] = field(default_factory=dict)
    cost: dict[str, Decimal] = field(default_factory=dict)  # instrument -> cash paid for the held shares

    def held(self, instrument: str) -> Decimal:
        return self.shares.get(instrument, Decimal(0)) + self.locked_shares.get(instrument, Decimal(0))


class Ledger:
    def __init__(self, faucet: Decimal, levels=None):
        """`levels(instrument)` -> (bids, asks) of floats seeds a book the first time it trades."""
        self.engine = MatchingEngine()
        self.lock: threading.RLock = self.engine.lock
        self.faucet = faucet
        self.levels = levels
        self.wallets: dict[str, Wallet] = {}
        self.fills: list[Fill] = []
        self._seeded: set[str] = set()

    def wallet(self, owner: str) -> Wallet:
        with self.lock:
            w = self.wallets.get(owner)
            if w is None:
                w = self.wallets[owner] = Wallet(self.faucet)
            return w

    def seed(self, instrument: str) -> None:
        if instrument in self._seeded or self.levels is None:
            return
        bids, asks = self.levels(instrument)
        self.engine.seed(instrument, MM, [(Decimal(str(p)), Decimal(str(s))) for p, s in bids],
                         [(Decimal(str(p)), Decimal(str(s))) for p, s in asks], id_prefix="mm")
        self._seeded.add(instrument)

    def depth(self, instrument: str) -> tuple[list[tuple[float, float]], list[tuple[float, float]]] | None:
        """The live book once the instrument has traded here; None while it is the static one."""
        if instrument not in self._seeded:
            return None
        with self.lock:
            book = self.engine.book(instrument)
            return ([(float(p), float(q)) for p, q in book.depth("buy")],
                    [(float(p), float(q)) for p, q in book.depth("sell")])

    def market_buy_size(self, instrument: str, cash: Decimal) -> tuple[Decimal, Decimal]:
        """(shares, worst price) that `cash` buys from the asks now: a market BUY by notional."""
        with self.lock:
            self.seed(instrument)
            shares, left, worst = Decimal(0), cash, Decimal(0)
            for o in self.engine.book(instrument).asks:
                if left <= 0:
                    break
                take = min(o.remaining, (left / o.price).quantize(Decimal("0.000001"), rounding="ROUND_DOWN"))
                shares += take
                left -= take * o.price
                worst = o.price
            return shares, worst

    def place(self, order: Order) -> list[Fill]:
        """Lock what the order may spend, match it, settle both sides, release what does not rest."""
        with self.lock:
            self.seed(order.instrument)
            w = self.wallet(order.owner)
            need = order.size * order.price if order.side == "buy" else order.size
            if order.side == "buy":
                if w.cash < need:
                    raise NotEnoughBalance("not enough balance")
                w.cash -= need
                w.locked += need
            else:
                if w.shares.get(order.instrument, Decimal(0)) < need:
                    raise NotEnoughBalance("not enough shares")
                w.shares[order.instrument] -= need
                w.locked_shares[order.instrument] = w.locked_shares.get(order.instrument, Decimal(0)) + need
            try:
                fills = self.engine.submit(order)
            except Rejected:
                self._release(w, order, order.size)
                raise
            for f in fills:
                self._settle(order, f.size, f.price)
                self._settle(self.engine.orders[f.maker_order], f.size, f.price)
            if order.status != "open":
                self._release(w, order, order.remaining)
            self.fills.extend(fills)
            return fills

    def cancel(self, order_id: str, owner: str) -> Order:
        with self.lock:
            order = self.engine.orders.get(order_id)
            if order is None or order.owner != owner:
                raise KeyError(order_id)
            was_open = order.status == "open"
            self.engine.cancel(order_id, owner)
            if was_open:
                self._release(self.wallet(owner), order, order.remaining)
            return order

    def _release(self, w: Wallet, order: Order, qty: Decimal) -> None:
        if qty <= 0:
            return
        if order.side == "buy":
            w.locked -= qty * order.price
            w.cash += qty * order.price
        else:
            w.locked_shares[order.instrument] -= qty
            w.shares[order.instrument] = w.shares.get(order.instrument, Decimal(0)) + qty

    def _settle(self, order: Order, qty: Decimal, price: Decimal) -> None:
        if order.owner == MM:
            return
        w = self.wallet(order.owner)
        inst = order.instrument
        if order.side == "buy":
            w.locked -= qty * order.price
            w.cash += qty * (order.price - price)  # price improvement comes back
            w.shares[inst] = w.shares.get(inst, Decimal(0)) + qty
            w.cost[inst] = w.cost.get(inst, Decimal(0)) + qty * price
        else:
            held = w.held(inst)
            if held:
                w.cost[inst] = w.cost.get(inst, Decimal(0)) * (held - qty) / held
            w.locked_shares[inst] -= qty
            w.cash += qty * price

    def fills_for(self, owner: str) -> list[Fill]:
        with self.lock:
            return [f for f in self.fills if owner in (f.taker_owner, f.maker_owner)]
