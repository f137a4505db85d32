"""The sandbox's world: one deterministic set of real-looking questions that the five simulated
venues each list in their own words and wire format.

Everything here is venue-neutral (probabilities 0..1, contracts, UTC). Each venue simulator turns a
`Listing` into its own ids, units and payloads. The same seed always gives the same world, and
`truth_groups()` records which listings ask the same question, so market matching can be measured.
"""
from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import lru_cache

VENUES = ("polymarket", "kalshi", "limitless", "opinion", "predictfun")

# Venue conventions a simulator must honour when it prints books.
VENUE_TICK = {"polymarket": 0.01, "kalshi": 0.01, "limitless": 0.001, "opinion": 0.001, "predictfun": 0.01}
VENUE_MIN_SIZE = {"polymarket": 5.0, "kalshi": 1.0, "limitless": 1.0, "opinion": 1.0, "predictfun": 1.0}


def digest(*parts: object) -> bytes:
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).digest()


def hex32(*parts: object) -> str:
    """A bytes32 hex id (condition ids, hashes)."""
    return "0x" + digest(*parts).hex()


def dec_token(*parts: object) -> str:
    """A uint256 decimal token id like Polymarket's clobTokenIds."""
    return str(int.from_bytes(digest(*parts), "big") >> 4)


def small_int(*parts: object, lo: int = 100_000, hi: int = 999_999) -> int:
    return lo + int.from_bytes(digest(*parts)[:8], "big") % (hi - lo)


@dataclass(frozen=True)
class Question:
    """One yes/no proposition. `truth` groups listings that ask exactly this."""

    key: str
    topic: str
    titles: dict[str, str]  # venue -> that venue's wording
    description: str
    end: datetime
    prob: float  # current fair probability of YES
    volume: float  # lifetime USD volume at the busiest venue
    event_key: str | None = None  # set when this question is one leg of a multi-outcome event
    event_title: str | None = None
    candidate: str | None = None  # the leg's outcome label inside its event
    status: str = "active"


@dataclass(frozen=True)
class HeadToHead:
    """A two-named-outcome market (a game): a categorical market on the venues that list it."""

    key: str
    topic: str
    titles: dict[str, str]
    description: str
    end: datetime
    sides: tuple[str, str]
    prob_first: float
    volume: float
    status: str = "active"


@dataclass(frozen=True)
class Listing:
    """One market on one venue."""

    venue: str
    question: Question | HeadToHead
    title: str
    outcomes: tuple[str, ...]
    probs: tuple[float, ...]
    volume: float
    tick: float
    min_size: float
    neg_risk: bool = False

    @property
    def key(self) -> str:
        return self.question.key

    @property
    def truth(self) -> str:
        return self.question.key

    @property
    def event_key(self) -> str | None:
        return getattr(self.question, "event_key", None)

    @property
    def categorical(self) -> bool:
        return isinstance(self.question, HeadToHead)


# --- the world ------------------------------------------------------------------------------------

_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"]
_MON = [m[:3] for m in _MONTHS]

_COINS = [("Bitcoin", "BTC", [90_000, 100_000, 110_000, 120_000, 130_000, 150_000]),
          ("Ethereum", "ETH", [3_000, 4_000, 5_000, 6_000]),
          ("Solana", "SOL", [150, 200, 250, 300]),
          ("XRP", "XRP", [2, 3, 5])]
_COUNTRIES = ["Brazil", "Canada", "Germany", "Japan", "Mexico", "India", "France", "Australia"]
_TEAMS = [("Lakers", "Celtics"), ("Warriors", "Knicks"), ("Chiefs", "Eagles"), ("Yankees", "Dodgers"),
          ("Real Madrid", "Barcelona"), ("Arsenal", "Liverpool"), ("Bucks", "Heat"), ("Packers", "Bears"),
          ("Maple Leafs", "Canadiens"), ("Mavericks", "Suns"), ("Inter", "Juventus"), ("Bayern", "Dortmund")]
_EVENTS = [
    ("Who will win the 2027 Super Bowl?", "super-bowl-2027", "sports",
     ["Chiefs", "Eagles", "Bills", "Ravens", "Lions", "49ers"]),
    ("Which company will have the largest market cap on Dec 31, 2026?", "largest-company-2026", "finance",
     ["Nvidia", "Apple", "Microsoft", "Alphabet", "Amazon"]),
    ("Who will win the 2026 Ballon d'Or?", "ballon-dor-2026", "sports",
     ["Mbappe", "Haaland", "Yamal", "Bellingham", "Vinicius"]),
    ("Fed decision in December 2026?", "fed-dec-2026", "economics",
     ["Cut 50+ bps", "Cut 25 bps", "No change", "Hike"]),
    ("Who will be the next UK Prime Minister?", "next-uk-pm", "politics",
     ["Starmer", "Badenoch", "Farage", "Streeting", "Rayner"]),
    ("Best AI model at end of 2026?", "best-ai-2026", "tech",
     ["OpenAI", "Google", "Anthropic", "xAI", "Meta", "DeepSeek"]),
    ("Who will win the 2026 NBA MVP?", "nba-mvp-2026", "sports",
     ["Jokic", "Gilgeous-Alexander", "Doncic", "Antetokounmpo", "Wembanyama"]),
    ("Highest grossing film of 2026?", "top-film-2026", "culture",
     ["Avengers: Doomsday", "Toy Story 5", "Supergirl", "The Mandalorian", "Moana"]),
    ("Which party wins the 2026 Brazil presidential election?", "brazil-2026", "politics",
     ["PT", "PL", "MDB", "PSD"]),
    ("Bitcoin price range on Dec 31, 2026?", "btc-range-2026", "crypto",
     ["<$80k", "$80k-$100k", "$100k-$120k", "$120k-$140k", ">$140k"]),
    ("Who will win Eurovision 2027?", "eurovision-2027", "culture",
     ["Sweden", "Italy", "Ukraine", "France", "Finland"]),
    ("Time Person of the Year 2026?", "time-poy-2026", "culture",
     ["Donald Trump", "Elon Musk", "Pope Leo XIV", "Sam Altman", "Taylor Swift"]),
]


def _fmt_usd(v: int) -> str:
    return f"${v:,}"


def _short_usd(v: int) -> str:
    return f"${v // 1000}k" if v >= 1000 and v % 1000 == 0 else f"${v}"


def _dates(now: datetime, rng: random.Random) -> datetime:
    days = rng.choice([7, 14, 30, 37, 60, 90, 120, 180, 240, 365])
    return (now + timedelta(days=days)).replace(hour=23, minute=59, second=0, microsecond=0)


def _venues_for(rng: random.Random, weight: float) -> tuple[str, ...]:
    chosen = ["polymarket"] if rng.random() < 0.9 else []
    for v, p in (("kalshi", 0.6), ("limitless", 0.35), ("opinion", 0.3), ("predictfun", 0.3)):
        if rng.random() < p * weight:
            chosen.append(v)
    if not chosen:
        chosen.append(rng.choice(VENUES))
    return tuple(chosen)


def _crypto_titles(name: str, sym: str, strike: int, end: datetime) -> dict[str, str]:
    d = end
    return {
        "polymarket": f"Will {name} be above {_fmt_usd(strike)} on {_MONTHS[d.month - 1]} {d.day}, {d.year}?",
        "kalshi": f"{name} price above {_fmt_usd(strike)} on {_MON[d.month - 1]} {d.day}, {d.year}?",
        "limitless": f"${sym} above {_short_usd(strike)} on {_MON[d.month - 1]} {d.day}?",
        "opinion": f"{sym} > {_fmt_usd(strike)} by {_MONTHS[d.month - 1]} {d.day}, {d.year}?",
        "predictfun": f"Will {sym} close above {strike:,} USD on {d.day} {_MON[d.month - 1]} {d.year}?",
    }


def _binary_templates(rng: random.Random, now: datetime) -> list[tuple[str, str, dict[str, str], str, datetime]]:
    """(key, topic, titles, description, end) for the yes/no questions."""
    out: list[tuple[str, str, dict[str, str], str, datetime]] = []
    for name, sym, strikes in _COINS:
        for strike in strikes:
            for horizon in (30, 120):
                end = (now + timedelta(days=horizon)).replace(hour=23, minute=59, second=0, microsecond=0)
                key = f"crypto-{sym}-{strike}-{end:%Y%m%d}"
                desc = (f"Resolves YES if the {name} ({sym}/USD) reference price is strictly above "
                        f"{_fmt_usd(strike)} at 12:00 ET on {end:%B %d, %Y}.")
                out.append((key, "crypto", _crypto_titles(name, sym, strike, end), desc, end))
    for country in _COUNTRIES:
        for thr in (2.0, 3.0):
            end = _dates(now, rng)
            key = f"cpi-{country}-{thr}-{end:%Y%m}"
            t = {
                "polymarket": f"Will {country}'s annual inflation be above {thr:.1f}% in {_MONTHS[end.month - 1]} {end.year}?",
                "kalshi": f"{country} CPI inflation above {thr:.1f}% for {_MON[end.month - 1]} {end.year}?",
                "limitless": f"{country} inflation > {thr:.0f}% in {_MON[end.month - 1]} {end.year}?",
                "opinion": f"{country} YoY CPI above {thr:.1f}% ({_MONTHS[end.month - 1]} {end.year})?",
                "predictfun": f"Will {country} report inflation above {thr:.1f} percent for {_MONTHS[end.month - 1]} {end.year}?",
            }
            out.append((key, "economics", t, f"Resolves YES if the official {country} CPI print for the month is above {thr}% year over year.", end))
    tech = [
        ("gpt6", "OpenAI release GPT-6", "GPT-6 released"),
        ("iphone-fold", "Apple announce a foldable iPhone", "Foldable iPhone announced"),
        ("starship-orbit", "SpaceX Starship reach orbit with a crew", "Crewed Starship orbit"),
        ("tesla-robotaxi", "Tesla launch robotaxi service in 10 US cities", "Tesla robotaxi in 10 cities"),
        ("nvidia-5t", "Nvidia reach a $5 trillion market cap", "Nvidia market cap above $5T"),
        ("gta6", "GTA VI be released", "GTA 6 release"),
        ("fusion-net", "a fusion plant report net energy gain to the grid", "Fusion net power to grid"),
        ("mars-landing", "NASA land a new rover on Mars", "New Mars rover landing"),
        ("ethetf-staking", "the SEC approve staking in spot ETH ETFs", "SEC approves ETH ETF staking"),
        ("twitter-ipo", "X (Twitter) announce an IPO", "X files for IPO"),
        ("apple-ai-glasses", "Apple release smart glasses", "Apple smart glasses launch"),
        ("nintendo-switch3", "Nintendo announce the Switch 3", "Switch 3 announced"),
    ]
    for slug, phrase, short in tech:
        end = _dates(now, rng)
        key = f"tech-{slug}-{end:%Y%m%d}"
        t = {
            "polymarket": f"Will {phrase} by {_MONTHS[end.month - 1]} {end.day}, {end.year}?",
            "kalshi": f"Will {phrase} before {_MON[end.month - 1]} {end.day}, {end.year}?",
            "limitless": f"{short} by {_MON[end.month - 1]} {end.day}?",
            "opinion": f"{short} before {_MONTHS[end.month - 1]} {end.year}?",
            "predictfun": f"{short} by {end.day} {_MON[end.month - 1]} {end.year}?",
        }
        out.append((key, "tech", t, f"Resolves YES if {phrase.split(' ', 1)[1] if ' ' in phrase else phrase} happens before the deadline.", end))
    politics = [
        ("shutdown", "Will the US government shut down", "US government shutdown"),
        ("tariff-eu", "Will the US raise tariffs on the EU to 30%", "US-EU tariffs hit 30%"),
        ("ceasefire", "Will Russia and Ukraine sign a ceasefire", "Russia-Ukraine ceasefire signed"),
        ("recession", "Will the US enter a recession", "US recession declared"),
        ("fed-chair", "Will the Senate confirm a new Fed chair", "New Fed chair confirmed"),
        ("debt-ceiling", "Will Congress raise the debt ceiling", "Debt ceiling raised"),
        ("musk-party", "Will Elon Musk's America Party field a Senate candidate", "America Party Senate candidate"),
        ("greenland", "Will the US and Denmark sign a Greenland agreement", "US-Denmark Greenland deal"),
    ]
    for slug, phrase, short in politics:
        end = _dates(now, rng)
        key = f"pol-{slug}-{end:%Y%m%d}"
        t = {
            "polymarket": f"{phrase} by {_MONTHS[end.month - 1]} {end.day}, {end.year}?",
            "kalshi": f"{phrase} before {_MON[end.month - 1]} {end.day}, {end.year}?",
            "limitless": f"{short} by {_MON[end.month - 1]} {end.day}?",
            "opinion": f"{short} before {_MONTHS[end.month - 1]} {end.day}, {end.year}?",
            "predictfun": f"{short} by {end.day} {_MON[end.month - 1]} {end.year}?",
        }
        out.append((key, "politics", t, f"{phrase.replace('Will ', '').capitalize()} before the deadline? Resolves per official sources.", end))
    return out


@dataclass
class Universe:
    now: datetime
    seed: int = 7
    questions: list[Question] = field(default_factory=list)
    games: list[HeadToHead] = field(default_factory=list)
    listings: dict[str, list[Listing]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        rng = random.Random(self.seed)
        now = self.now
        for key, topic, titles, desc, end in _binary_templates(rng, now):
            prob = round(min(0.96, max(0.04, rng.betavariate(1.6, 1.6))), 3)
            vol = round(10 ** rng.uniform(3.5, 7.2), 2)
            self.questions.append(Question(key, topic, titles, desc, end, prob, vol))
        # A few resolved and closed questions so status filters have something to find.
        for i in range(6):
            end = now - timedelta(days=3 + i * 4)
            key = f"past-{i}"
            t = {v: f"Will the {['S&P 500', 'Nasdaq', 'Dow', 'Gold', 'Oil', 'Euro'][i]} close higher on {_MONTHS[end.month - 1]} {end.day}, {end.year}?" for v in VENUES}
            self.questions.append(Question(key, "finance", t, "Resolves on the official closing print.", end,
                                           1.0 if i % 2 else 0.0, round(10 ** rng.uniform(4, 6), 2),
                                           status="resolved" if i < 4 else "closed"))
        for title, ekey, topic, cands in _EVENTS:
            end = _dates(now, rng)
            weights = [rng.random() ** 2 + 0.02 for _ in cands]
            total = sum(weights)
            for cand, w in zip(cands, weights):
                qkey = f"{ekey}-{cand.lower().replace(' ', '-')}"
                leg_titles = {
                    "polymarket": f"Will {cand} win? ({title.rstrip('?')})",
                    "kalshi": f"{title.rstrip('?')}: {cand}",
                    "limitless": f"{cand} — {title}",
                    "opinion": f"{title.rstrip('?')} - {cand}",
                    "predictfun": f"{title.rstrip('?')}: {cand}?",
                }
                self.questions.append(Question(qkey, topic, leg_titles, f"{title} This market resolves YES if the answer is {cand}.",
                                               end, round(w / total, 3), round(10 ** rng.uniform(4, 7), 2),
                                               event_key=ekey, event_title=title, candidate=cand))
        for a, b in _TEAMS:
            end = (now + timedelta(days=rng.randint(1, 20))).replace(hour=23, minute=0, second=0, microsecond=0)
            key = f"game-{a.lower().replace(' ', '-')}-{b.lower().replace(' ', '-')}-{end:%Y%m%d}"
            t = {
                "polymarket": f"{a} vs. {b}",
                "kalshi": f"{a} vs {b} winner?",
                "limitless": f"{a} vs {b} ({_MON[end.month - 1]} {end.day})",
                "opinion": f"{a} v {b}",
                "predictfun": f"{a} vs. {b}: who wins?",
            }
            self.games.append(HeadToHead(key, "sports", t, f"Winner of {a} vs {b} on {end:%Y-%m-%d}.", end, (a, b),
                                         round(rng.uniform(0.25, 0.75), 3), round(10 ** rng.uniform(4, 6.5), 2)))
        self._assign_venues(rng)

    def _assign_venues(self, rng: random.Random) -> None:
        self.listings = {v: [] for v in VENUES}
        event_venues: dict[str, tuple[str, ...]] = {}
        for q in self.questions:
            if q.event_key:
                venues = event_venues.setdefault(q.event_key, _venues_for(rng, 1.4))
            else:
                venues = _venues_for(rng, 1.0)
            for v in venues:
                jitter = (rng.random() - 0.5) * 0.02
                p = min(0.99, max(0.01, q.prob + jitter)) if q.status == "active" else q.prob
                share = 1.0 if v == venues[0] else rng.uniform(0.05, 0.6)
                self.listings[v].append(Listing(v, q, q.titles[v], ("Yes", "No"), (p, 1 - p),
                                                round(q.volume * share, 2), VENUE_TICK[v], VENUE_MIN_SIZE[v],
                                                neg_risk=bool(q.event_key) and v == "polymarket"))
        for g in self.games:
            for v in ("polymarket", "limitless", "opinion") if rng.random() < 0.5 else ("polymarket",):
                p = g.prob_first
                self.listings[v].append(Listing(v, g, g.titles[v], g.sides, (p, 1 - p), g.volume,
                                                VENUE_TICK[v], VENUE_MIN_SIZE[v]))

    # --- views ------------------------------------------------------------------------------------

    def venue_listings(self, venue: str) -> list[Listing]:
        return self.listings[venue]

    def truth_groups(self) -> dict[str, list[tuple[str, str]]]:
        """question key -> [(venue, question key)] for every question listed on 2+ venues."""
        groups: dict[str, list[tuple[str, str]]] = {}
        for venue, rows in self.listings.items():
            for row in rows:
                groups.setdefault(row.key, []).append((venue, row.key))
        return {k: v for k, v in groups.items() if len(v) > 1}

    def event_members(self, venue: str, event_key: str) -> list[Listing]:
        return [row for row in self.listings[venue] if row.event_key == event_key]


@lru_cache(maxsize=4)
def build_universe(now_hour: int, seed: int = 7) -> Universe:
    """The world as of `now_hour` (a Unix time rounded to the hour, so restarts agree)."""
    return Universe(datetime.fromtimestamp(now_hour, tz=timezone.utc), seed)


def current_universe(seed: int = 7) -> Universe:
    now = int(datetime.now(tz=timezone.utc).timestamp()) // 3600 * 3600
    return build_universe(now, seed)


# --- prices, books, tapes --------------------------------------------------------------------------

def price_path(key: str, venue: str, outcome_index: int, final: float, end: datetime, hours: int = 24 * 45) -> list[tuple[int, float]]:
    """Hourly (unix_s, prob) points for the last `hours` hours ending at `end`, finishing at `final`.

    A bridge built backwards from the current price, so every venue's history agrees with its book.
    """
    rng = random.Random(digest("path", key, venue, outcome_index))
    points: list[tuple[int, float]] = []
    p = final
    t = int(end.timestamp()) // 3600 * 3600
    for _ in range(hours):
        points.append((t, round(min(0.995, max(0.005, p)), 4)))
        p += rng.gauss(0, 0.012) + (0.5 - p) * 0.002
        p = min(0.99, max(0.01, p))
        t -= 3600
    points.reverse()
    return points


def snap(price: float, tick: float) -> float:
    steps = round(price / tick)
    steps = min(max(steps, 1), int(round(1 / tick)) - 1)
    return round(steps * tick, tick_decimals(tick))


def tick_decimals(tick: float) -> int:
    text = f"{tick:.10f}".rstrip("0")
    return len(text.split(".")[1]) if "." in text else 0


def book(key: str, venue: str, outcome_index: int, prob: float, tick: float, min_size: float,
         levels: int = 12) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """(bids best-first, asks best-first) for one outcome, venue-neutral. Never crossed."""
    rng = random.Random(digest("book", key, venue, outcome_index))
    mid = min(1 - tick, max(tick, prob))
    spread_ticks = rng.choice([1, 1, 2, 2, 3, 4])
    best_bid = snap(max(tick, mid - spread_ticks * tick / 2), tick)
    best_ask = snap(min(1 - tick, best_bid + spread_ticks * tick), tick)
    if best_ask <= best_bid:
        best_ask = snap(best_bid + tick, tick)
    bids: list[tuple[float, float]] = []
    asks: list[tuple[float, float]] = []
    p = best_bid
    for _ in range(levels):
        if p < tick - 1e-12:
            break
        bids.append((snap(p, tick), round(max(min_size, rng.lognormvariate(4.5, 1.0)), 2)))
        p -= tick * rng.choice([1, 1, 1, 2, 3])
    p = best_ask
    for _ in range(levels):
        if p > 1 - tick + 1e-12:
            break
        asks.append((snap(p, tick), round(max(min_size, rng.lognormvariate(4.5, 1.0)), 2)))
        p += tick * rng.choice([1, 1, 1, 2, 3])
    # de-duplicate after snapping
    bids = list(dict(bids).items())
    asks = list(dict(asks).items())
    return bids, asks


@dataclass(frozen=True)
class TapeTrade:
    trade_id: str
    ts: int  # unix seconds
    outcome_index: int
    price: float  # price of `outcome_index`
    size: float
    taker_side: str  # buy | sell (of that outcome)


def tape(key: str, venue: str, probs: tuple[float, ...], end: datetime, tick: float, days: int = 20) -> list[TapeTrade]:
    """Public trades over the last `days` days ending at `end`, newest first."""
    rng = random.Random(digest("tape", key, venue))
    paths = [price_path(key, venue, i, probs[i], end) for i in range(len(probs))]
    start = int(end.timestamp()) - days * 86400
    trades: list[TapeTrade] = []
    t = int(end.timestamp()) - rng.randint(30, 600)
    n = 0
    while t > start:
        i = rng.randrange(len(probs))
        hour_idx = max(0, len(paths[i]) - 1 - (int(end.timestamp()) - t) // 3600)
        p = snap(paths[i][hour_idx][1] + rng.choice([-1, 0, 1]) * tick, tick)
        size = round(max(1.0, rng.lognormvariate(3.0, 1.2)), 2)
        trades.append(TapeTrade(hex32("trade", key, venue, n)[:18], t, i, p, size, rng.choice(["buy", "sell"])))
        n += 1
        t -= int(rng.expovariate(1 / 1800)) + 5
    return trades
