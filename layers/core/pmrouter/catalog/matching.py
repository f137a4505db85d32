"""Cross-venue market matching: pair listings that ask the same question on different exchanges.

The method (`text_v2`) is explainable and cheap enough to run over 100k markets at sync time; its quality
is measured on real Kalshi and Polymarket listings (tests/fixtures/matching/, docs/matching.md):

1. **Normalise** each question: accents, case, "u.s." → us, `S&P` → sp; calendar dates are date facts
   ("before Jan 1, 2027" also reads as "by Dec 31, 2026"), years are facts ("before 2027" is 2026); amounts
   become canonical numbers; comparison words (above, hike, cut, ...) a direction, and "no change" / "0bps"
   a zero change; stop words, a light stemmer, compound merging. A venue's leg label (Kalshi
   `yes_sub_title`, Polymarket `groupItemTitle`) joins the question when the title does not name it, and a
   series code adds the words it packs ("KXNBA" → nba) when the catalog uses them elsewhere.
2. **Dates that mean "decided"**: Kalshi's expected expiration, Polymarket's end date. Kalshi's close_time
   on long-dated futures is only the latest possible expiration, an upper bound, never a decision date.
3. **Rules text** (match_rules.py): the first amount, the strictness of the comparison and the primary
   settlement source; two stated facts that disagree refuse the pair.
4. **Block**: an inverted index over (token, decision day) proposes candidates on *other* exchanges.
5. **Events that align**: two groups on two venues whose legs carry the same names under mostly the same
   context words are the same event; inside them each venue's own words for the event ("Men's World Cup" /
   "FIFA World Cup", "Pro Football Championship" / "NFL league championship") are naming, not a different
   question. One event per venue aligns (the final beats the conference round).
6. **Score** a candidate pair (IDF-weighted containment and Jaccard) after hard rules, assign one-to-one per
   exchange pair, close transitively, then match events from their markets' links. HIGH needs every piece
   of evidence read and agreeing (both rules texts, decision dates within a week, no naming left
   unexplained); anything less is capped below HIGH.
"""
from __future__ import annotations

import functools
import gc
import heapq
import math
import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Iterable, Sequence

from ..exchanges.base import VenueMarket
from .match_rules import RulesFacts, conflict, rules_facts

SOURCE = "text_v2"  # the method version every link names
HIGH, MEDIUM, LOW = 0.85, 0.70, 0.55

MIN_TEXT_SCORE = 0.35  # below this, dates and numbers cannot rescue a pair
MAX_BLOCK_DF = 250  # (token, day) keys more common than this are too generic to propose candidates
BLOCK_TOKENS = 4  # most selective keys per market used to propose candidates
MAX_CANDIDATES = 24  # fully scored candidates per market
MAX_UNDATED_DF = 50  # the undated bucket mixes every date: only its rarest keys are selective
RULES_CHARS = 400
MAX_DECISION_GAP = 60  # days between two venues' decision dates beyond which they cannot be the same question  # how much of a market's rules text is read for thresholds, strictness and source


def confidence_tier(confidence: float) -> str | None:
    if confidence >= HIGH:
        return "HIGH"
    if confidence >= MEDIUM:
        return "MEDIUM"
    if confidence >= LOW:
        return "LOW"
    return None


# --- normalisation --------------------------------------------------------------------------------

_MONTH_WORDS = {
    "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4, "april": 4, "may": 5,
    "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8, "sep": 9, "sept": 9, "september": 9,
    "oct": 10, "october": 10, "nov": 11, "november": 11, "dec": 12, "december": 12,
}
_MONTH_RE = r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
_ORD = r"(?:st|nd|rd|th)?"
_DATE_PATTERNS = [
    # 2026-03-10
    (re.compile(r"\b(20\d\d)-(\d\d)-(\d\d)\b"), lambda m: (int(m[1]), int(m[2]), int(m[3]))),
    # March 10, 2026 / Mar 10 / Mar. 10th 2026
    (re.compile(_MONTH_RE + r"\.?\s+(\d{1,2})" + _ORD + r"\b(?:,?\s*(\d{4})\b)?"),
     lambda m: (int(m[3]) if m[3] else None, _MONTH_WORDS[m[1]], int(m[2]))),
    # 10 March 2026 / 10th of Mar
    (re.compile(r"\b(\d{1,2})" + _ORD + r"\s+(?:of\s+)?" + _MONTH_RE + r"\b\.?(?:,?\s*(\d{4})\b)?"),
     lambda m: (int(m[3]) if m[3] else None, _MONTH_WORDS[m[2]], int(m[1]))),
    # March 2026 / Mar, 2026
    (re.compile(_MONTH_RE + r"\b\.?,?\s+(\d{4})\b"), lambda m: (int(m[2]), _MONTH_WORDS[m[1]], None)),
]
_MULT = {
    "k": 1e3, "thousand": 1e3, "m": 1e6, "mn": 1e6, "mm": 1e6, "million": 1e6, "b": 1e9, "bn": 1e9,
    "billion": 1e9, "t": 1e12, "tn": 1e12, "trillion": 1e12,
}
_NUMBER_RE = re.compile(  # a minus sign counts only right before the number ("-0.1%", not "10-20" or "covid-19")
    r"(?=[-$\d])(?<![\w.])(-(?=\$?\d))?(\$\s?)?(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?\+?\s?"
    r"(%|percent\b|pct\b|bps\b|basis points\b|usd\b|dollars\b|k\b|thousand\b|mn\b|mm\b|m\b|million\b|bn\b|b\b|billion\b|tn\b|t\b|trillion\b)?"
)
_ROMAN = {"ii": 2, "iii": 3, "iv": 4, "vi": 6, "vii": 7, "viii": 8, "ix": 9, "xi": 11, "xii": 12, "xiii": 13,
          "xiv": 14, "xv": 15, "xvi": 16, "xvii": 17, "xviii": 18, "xix": 19, "xx": 20}
_ABOVE = {"above", "over", "exceed", "exceeds", "exceeding", "higher", "greater", "more", "least", "gt", "reach",
          "reaches", "hit", "hits", "surpass", "surpasses", "top", "tops", "hike", "hikes", "increase", "increases",
          "raise", "raises"}
_BELOW = {"below", "under", "lower", "less", "fewer", "lt", "dip", "dips", "drop", "drops", "fall", "falls", "cut", "cuts",
          "decrease", "decreases", "reduce", "reduces"}
_ALIASES = {
    "btc": "bitcoin", "xbt": "bitcoin", "eth": "ethereum", "ether": "ethereum", "sol": "solana",
    "doge": "dogecoin", "ripple": "xrp", "ada": "cardano", "bnb": "binance", "usa": "us", "america's": "us",
    "cpi": "inflation", "yoy": "annual", "gop": "republican", "republicans": "republican",
    "dems": "democrat", "democrats": "democrat", "democratic": "democrat", "potus": "president",
    "wins": "win", "winner": "win", "won": "win", "winning": "win", "agreement": "deal", "accord": "deal",
    "nyc": "newyork", "gov": "government", "govt": "government", "approx": "about",
}
# (substring every match contains, pattern, replacement): the substring test is far cheaper than the regex
# and most questions contain none of them
_PHRASES = [
    ("u.", re.compile(r"\bu\.\s?s\.?(?=\W|$)"), " us "), ("u.", re.compile(r"\bu\.\s?k\.?(?=\W|$)"), " uk "),
    ("united states", re.compile(r"\bunited states\b"), " us "),
    ("united kingdom", re.compile(r"\bunited kingdom\b"), " uk "),
    ("federal reserve", re.compile(r"\bfederal reserve\b"), " fed "), ("new york", re.compile(r"\bnew york\b"), " newyork "),
    ("&", re.compile(r"\b(\w)\s?&\s?(\w)\b"), r" \1\2 "), ("higher than", re.compile(r"\bhigher than\b"), " above "),
    ("than", re.compile(r"\bless than\b|\blower than\b"), " below "), (">", re.compile(r">=?"), " above "),
    ("<", re.compile(r"<=?"), " below "), ("$", re.compile(r"\$(?=[a-z])"), " "),
    # a change of zero is "no change": venues write "Hike 0bps", "Fed maintains rate", "No change", "unchanged"
    ("", re.compile(r"\bno change\b|\bunchanged\b|\bmaintains? (?:the )?rates?\b"), " 0 bps "),
]
_ZERO_CHANGE_HINT = re.compile(r"no change|unchanged|maintain")
_MONTH_HINT = re.compile(_MONTH_RE)  # every date pattern but the ISO one contains a month word
_RAW_TOKEN_RE = re.compile(r"#-?[0-9.e+]+|[a-z0-9]+")
_STOP = frozenset(
    "a an the of in on at by to for from with and or is are be been being will would shall should can could may "
    "might do does did this that these those it its as than then what which who whom whose when where whether how "
    "if before after until till during end yes no vs v versus price market markets question resolve resolves "
    "resolved close closes closing priced their its".split()
) - {"may"}
_TOKEN_RE = re.compile(r"[a-z0-9]+")
_CAPS_RE = re.compile(r"[A-Za-z][A-Za-z0-9]*")


def _fold(text: str) -> str:
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text.replace("’", "'"))
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return text.lower()


@functools.lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    if len(word) <= 3 or word.isdigit():
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    for suf in ("ing", "ed", "es", "s", "e"):
        if word.endswith(suf) and len(word) - len(suf) >= 3:
            return word[: -len(suf)]
    return word


def _canon_number(value: float) -> str:
    return f"{value:.6g}"


@dataclass
class TextFeatures:
    tokens: list[str]  # informative tokens in order (numbers as "#<value>")
    numbers: frozenset[str]
    dates: frozenset[tuple[int | None, int, int | None]]  # (year, month, day)
    direction: frozenset[str]
    entities: frozenset[str] = frozenset()  # tokens written capitalised (names: Germany, Chiefs, iPhone)
    years: frozenset[int] = frozenset()  # calendar years the question is about ("before 2027" counts as 2026)


def analyse(text: str) -> TextFeatures:
    """Normalise one question into tokens, numbers, explicit dates and direction."""
    s = " " + _fold(text or "") + " "
    s = s.replace("'s ", " ").replace("'", "")
    for hint, rx, repl in _PHRASES:
        if hint in s if hint else _ZERO_CHANGE_HINT.search(s):
            s = rx.sub(repl, s)
    has_month = _MONTH_HINT.search(s) is not None
    has_iso = "-" in s
    dates: set[tuple[int | None, int, int | None]] = set()
    years: list[int] = []
    for k, (rx, conv) in enumerate(_DATE_PATTERNS):
        if not (has_iso if k == 0 else has_month):
            continue

        def _take(m: re.Match, conv=conv) -> str:
            try:
                y, mo, d = conv(m)
            except (KeyError, ValueError):
                return m[0]
            if not 1 <= mo <= 12 or (d is not None and not 1 <= d <= 31):
                return m[0]
            if y is not None and d is not None and s[max(0, m.start() - 8):m.start()].strip().endswith("before"):
                try:  # "before Jan 1, 2027" is "by Dec 31, 2026": the same deadline in the other venue's words
                    prev = date(y, mo, d) - timedelta(days=1)
                except ValueError:
                    return m[0]
                dates.add((prev.year, prev.month, prev.day))  # venues also write "before" for "by": keep both
                years.append(prev.year)
            dates.add((y, mo, d))
            if y is not None:
                years.append(y)
            return " "
        s = rx.sub(_take, s)
    numbers: set[str] = set()

    def _num(m: re.Match) -> str:
        minus, cur, whole, frac, suf = m[1], m[2], m[3], m[4], (m[5] or "").strip()
        digits = whole.replace(",", "")
        if not minus and not cur and not suf and not frac and "," not in whole and len(digits) == 4 and 1900 <= int(digits) <= 2100:
            before = s[max(0, m.start() - 8):m.start()].strip().endswith("before")
            years.append(int(digits) - 1 if before else int(digits))
            return f" {digits} "
        value = float(digits + (frac or ""))
        value *= _MULT.get(suf, 1.0) * (-1.0 if minus else 1.0)
        numbers.add(_canon_number(value))
        return f" #{_canon_number(value)} "

    s = _NUMBER_RE.sub(_num, s)
    tokens: list[str] = []
    direction: set[str] = set()
    for raw in _RAW_TOKEN_RE.findall(s):
        kind = _WORD_KIND.get(raw)
        if kind is None:
            kind = _word_kind(raw)
        if kind is _SKIP:
            continue
        tok, what = kind
        tokens.append(tok)
        if what == "number":
            numbers.add(tok[1:])
        elif what:
            direction.add(what)
    entities = set()
    raw_text = text or ""
    for word in _CAPS_RE.findall(raw_text if raw_text.isascii() else unicodedata.normalize("NFKD", raw_text)):
        if word.islower():  # ASCII words only: no capital letter, not a name
            continue
        ent = _ENTITY.get(word, _SKIP)
        if ent is _SKIP:
            ent = _entity(word)
            if len(_ENTITY) < 500_000:
                _ENTITY[word] = ent
        if ent is not None:
            entities.add(ent)
    entities &= set(tokens)
    if numbers == {"0"}:
        direction.clear()  # "a hike of 0bps" and "no change" are the same outcome: zero has no direction
    return TextFeatures(tokens, frozenset(numbers), frozenset(dates), frozenset(direction), frozenset(entities),
                        frozenset(years))


_SKIP = ("", "")  # a word that carries no token
_WORD_KIND: dict[str, tuple[str, str]] = {}  # raw word -> (token, "number" | "above" | "below" | "")
_ENTITY: dict[str, str | None] = {}  # capitalised word -> its token as a name, None when it names nothing


def _word_kind(raw: str) -> tuple[str, str]:
    """What one raw word contributes, worked out once per distinct word (questions repeat their words)."""
    if raw.startswith("#"):
        return raw, ""
    if raw in _ROMAN:
        kind = ("#" + _canon_number(_ROMAN[raw]), "number")
    else:
        word = _ALIASES.get(raw, raw)
        kind = (("above", "above") if word in _ABOVE else ("below", "below") if word in _BELOW
                else _SKIP if word in _STOP else (_stem(word), ""))
    if len(_WORD_KIND) < 500_000:
        _WORD_KIND[raw] = kind
    return kind


def _entity(word: str) -> str | None:
    low = _ALIASES.get(word.lower(), word.lower())
    if low in _STOP or low in _ABOVE or low in _BELOW or low in _MONTH_WORDS or low in _ROMAN:
        return None
    return _stem(low)


def _outcome_signature(m: VenueMarket) -> tuple:
    if m.market_type == "binary":
        return ("binary",)
    names = [o.name.strip().lower() for o in m.outcomes]
    if sorted(names) == ["no", "yes"]:
        return ("binary",)
    return ("categorical", frozenset(_stem(_ALIASES.get(t, t)) for n in names for t in _TOKEN_RE.findall(_fold(n))
                                      if t not in _STOP))


def _day(dt: datetime | None) -> int | None:
    return dt.toordinal() if dt is not None else None


# --- features ---------------------------------------------------------------------------------------

@dataclass(slots=True)  # millions of attribute reads in the pair loop; slots make them cheaper
class _Feat:
    idx: int
    exchange: str
    group: str
    tokens: frozenset[str]
    numbers: frozenset[str]
    dates: frozenset
    direction: frozenset[str]
    entities: frozenset[str]
    end_day: int | None  # the day the question is decided (Kalshi: expected expiration), None when unknown
    latest_day: int | None  # an upper bound only (Kalshi's close_time without an expected expiration)
    outcomes: tuple
    years: frozenset[int] = frozenset()
    facts: RulesFacts | None = None
    has_rules: bool = False
    label: frozenset[str] = frozenset()  # the venue's own name for this leg (yes_sub_title, groupItemTitle)
    weight: dict[str, float] = field(default_factory=dict)
    total: float = 0.0
    leg: frozenset[str] = frozenset()  # tokens that tell this market apart from its group siblings
    ctx: frozenset[str] = frozenset()  # tokens most of its group siblings share (the event's own words)
    names: frozenset[str] = frozenset()  # what names this leg: its label, else its leg tokens (set after grouping)
    names_w: float = 0.0  # IDF weight of `names`
    stages: frozenset[str] = frozenset()  # the stage classes its words name (conference, nomination, ...)
    initials: frozenset[str] = frozenset()  # its one-letter tokens ("Los Angeles R")
    first_letters: frozenset[str] = frozenset()  # first letters of its longer tokens


def _merge_compounds(seqs: list[list[str]]) -> list[list[str]]:
    vocab = set()
    for seq in seqs:
        vocab.update(seq)
    out = []
    for seq in seqs:
        if len(seq) < 2:
            out.append(seq)
            continue
        merged: list[str] = []
        i = 0
        while i < len(seq):
            if i + 1 < len(seq) and not seq[i].startswith("#") and not seq[i + 1].startswith("#"):
                joined = seq[i] + seq[i + 1]
                if joined in vocab or _stem(joined) in vocab:
                    merged.append(joined if joined in vocab else _stem(joined))
                    i += 2
                    continue
            merged.append(seq[i])
            i += 1
        out.append(merged)
    return out


def _series_words(series: str, vocab: set[str]) -> list[str]:
    """Words a venue packs into its series code ("KXNBA" -> nba, "KXMENWORLDCUP" -> men world cup), found by
    splitting the code into words the catalog uses elsewhere. This is how "Pro Basketball" meets "NBA"."""
    code = series.lower()
    if code.startswith("kx"):
        code = code[2:]
    if not code.isalpha():
        return []
    if code in vocab:
        return [code]
    for cut in range(len(code) - 2, 2, -1):
        head, tail = code[:cut], code[cut:]
        if head in vocab:
            return [head] + ([tail] if tail in vocab else [])
    return []


def _decided(m: VenueMarket) -> tuple[int | None, int | None]:
    """(day the question is decided, latest possible day). Kalshi's close_time on long-dated futures is the
    latest possible expiration, years after the expected one; it only bounds the decision date."""
    if m.exchange == "kalshi":
        expected = m.extra.get("expected_expiration") if m.extra else None
        if isinstance(expected, str):
            try:
                expected = datetime.fromisoformat(expected.replace("Z", "+00:00"))
            except ValueError:
                expected = None
        if isinstance(expected, datetime):
            return _day(expected), None
        return None, _day(m.end_date)
    return _day(m.end_date), None


_NO_FACTS = RulesFacts(None, None, None)


def _facts(text: str) -> RulesFacts:
    """The rules facts, or the shared empty value (one identity check skips the comparison later)."""
    f = rules_facts(text)
    return _NO_FACTS if f == _NO_FACTS else f


def _rules_text(m: VenueMarket) -> str:
    """The settlement rules as the venue states them. Kalshi's `description` is the leg's subtitle, not rules;
    other venues put their rules in the description. The operative sentence comes first; the rest is
    boilerplate (and costs time to read)."""
    text = m.rules or (m.description if m.exchange != "kalshi" else None) or ""
    return text[:RULES_CHARS]


def _build_features(markets: Sequence[VenueMarket]) -> tuple[list[_Feat], Counter[str]]:
    analysed = []
    cache: dict[str, TextFeatures] = {}

    def cached(text: str) -> TextFeatures:
        got = cache.get(text)
        if got is None:
            got = cache[text] = analyse(text)
        return got

    labels: list[frozenset[str]] = []
    for m in markets:
        a = cached(m.question)
        toks = a.tokens
        leg_name = (m.extra or {}).get("leg") if m.extra else None
        lab = cached(leg_name) if isinstance(leg_name, str) and leg_name else None
        if lab is not None and not set(lab.tokens) <= set(toks):
            # a generic leg title ("Which countries will have recessions?") names its outcome only in the label
            toks = toks + [t for t in lab.tokens if t not in toks]
            a = TextFeatures(toks, a.numbers | lab.numbers, a.dates, a.direction, a.entities | lab.entities, a.years)
        if m.group_title and len({t for t in toks if not t.startswith("#")}) < 3:
            # terse leg titles ("Chiefs") borrow their event's words
            g = cached(m.group_title)
            toks = toks + g.tokens
            a = TextFeatures(toks, a.numbers | g.numbers, a.dates | g.dates, a.direction | g.direction,
                             a.entities | g.entities, a.years | g.years)
        analysed.append(a)
        labels.append(frozenset(lab.tokens) if lab is not None else frozenset())
    seqs = _merge_compounds([a.tokens for a in analysed])
    vocab: set[str] = set()  # filled on first use: only venues with series codes need it
    series_cache: dict[str, list[str]] = {}
    feats = []
    for i, (m, a, seq) in enumerate(zip(markets, analysed, seqs)):
        series = (m.extra or {}).get("series_ticker") if m.extra else None
        if isinstance(series, str) and series:
            extra_words = series_cache.get(series)
            if extra_words is None:
                if not vocab:
                    for q in seqs:
                        vocab.update(q)
                extra_words = series_cache[series] = _series_words(series, vocab)
            seq = seq + extra_words
        toks = frozenset(seq)
        rules_text = _rules_text(m)
        end_day, latest_day = _decided(m)
        feats.append(_Feat(i, m.exchange, m.parsec_group_id, toks, a.numbers, a.dates, a.direction,
                           a.entities & toks, end_day, latest_day, _outcome_signature(m), a.years,
                           _facts(m.question + " \n " + rules_text), bool(rules_text), labels[i] & toks))
    # IDF weights over the whole catalog
    df: Counter[str] = Counter()
    for f in feats:
        df.update(f.tokens)
    n = len(feats) + 1
    idf = {t: math.log(n / c) + 0.5 for t, c in df.items()}
    for f in feats:
        f.weight = {t: idf[t] for t in f.tokens}
        f.total = sum(f.weight.values())
    # leg tokens: within a multi-market group, what the majority of siblings do not share; context: what they do
    groups: dict[str, list[_Feat]] = defaultdict(list)
    for f in feats:
        if f.group:
            groups[f.group].append(f)
    for members in groups.values():
        if len(members) < 2:
            continue
        counts: Counter[str] = Counter()
        for f in members:
            counts.update(f.tokens)
        common_at = max(2, math.ceil(0.6 * len(members)))
        ctx = frozenset(t for t, c in counts.items() if c >= common_at and not t.startswith("#"))
        for f in members:
            f.leg = frozenset(t for t in f.tokens if counts[t] < common_at and not t.startswith("#"))
            f.ctx = ctx & f.tokens
    for f in feats:  # computed once per market instead of at every pair
        f.names = _labels(f) if (f.leg or f.label) else frozenset()
        f.names_w = sum(f.weight[t] for t in f.names)
        f.stages = frozenset(c for t in f.tokens if (c := _STAGE_CLASS.get(t)))
        f.initials = frozenset(t for t in f.tokens if len(t) == 1)
        f.first_letters = frozenset(t[0] for t in f.tokens if len(t) > 1)
    return feats, df


# --- scoring ----------------------------------------------------------------------------------------

def _labels(f: _Feat) -> frozenset[str]:
    return f.label or f.leg


def _labels_agree(a: _Feat, b: _Feat) -> bool:
    la, lb = _labels(a), _labels(b)
    if not la or not lb:
        return False
    shared = la & lb
    return bool(shared) and sum(a.weight[t] for t in shared) >= 0.5 * min(sum(a.weight[t] for t in la),
                                                                          sum(b.weight[t] for t in lb))


def _aligned_groups(feats: list[_Feat], pairs: Iterable[tuple[int, int]]) -> set[tuple[str, str]]:
    """Event groups on two venues that list the same legs under the same context: most legs of the smaller
    group find a leg with the same name in the other, and the groups' shared words carry a good part of
    their context (at least 40 %; stage words differ more). Inside such a pair, each venue's own words for the event ("Men's World Cup" / "FIFA World
    Cup", "Pro Basketball" / "NBA") are naming, not a different question."""
    members: dict[str, list[_Feat]] = defaultdict(list)
    for f in feats:
        if f.group:
            members[f.group].append(f)
    big_enough = {g for g, ms in members.items() if len(ms) >= 3}
    if len(big_enough) < 2:
        return set()
    seen: set[tuple[str, str]] = set()
    out: set[tuple[str, str]] = set()
    found: list[tuple[float, str, str]] = []
    taken: set[tuple[str, str]] = set()
    for i, j in pairs:
        gi, gj = feats[i].group, feats[j].group
        if gi not in big_enough or gj not in big_enough or (gi, gj) in seen:
            continue
        seen.add((gi, gj))
        seen.add((gj, gi))
        mi, mj = members[gi], members[gj]
        small, big = (mi, mj) if len(mi) <= len(mj) else (mj, mi)
        matched = sum(1 for a in small if any(_labels_agree(a, b) for b in big))
        if matched < 3 or matched < 0.5 * len(small):
            continue
        ca, cb = small[0].ctx, big[0].ctx
        wa = sum(small[0].weight.get(t, 0.0) for t in ca)
        wb = sum(big[0].weight.get(t, 0.0) for t in cb)
        shared = sum(small[0].weight.get(t, 0.0) for t in ca & cb)
        if wa and wb and shared >= 0.4 * min(wa, wb):
            found.append((matched / len(small) + shared / min(wa, wb), gi, gj))
    # one event per venue: when a venue lists the final and a conference round over the same teams, the
    # event whose own words agree more with the other venue's wins the alignment
    for _strength, gi, gj in sorted(found, key=lambda e: (-e[0], e[1], e[2])):
        exi, exj = gi.split(":", 1)[0], gj.split(":", 1)[0]
        if (gi, exj) in taken or (gj, exi) in taken:
            continue
        taken.add((gi, exj))
        taken.add((gj, exi))
        out.add((gi, gj))
        out.add((gj, gi))
    return out


def _hard_reject(a: _Feat, b: _Feat, aligned: bool = False) -> bool:
    # cheapest and most often decisive first (numbers refuse about a third of all candidates)
    if a.numbers and b.numbers and a.numbers != b.numbers:
        return True
    oa, ob = a.outcomes, b.outcomes
    if oa[0] != ob[0]:
        return True
    if oa[0] == "categorical":
        sa, sb = oa[1], ob[1]
        if not sa or not sb or len(sa & sb) / len(sa | sb) < 0.5:
            return True
    if a.direction and b.direction and a.direction != b.direction:
        return True
    if a.stages != b.stages:
        return True  # wins the conference vs the final, runs for vs wins, nominee vs elected
    ae, be = a.end_day, b.end_day
    if ae is not None and be is not None:
        gap = abs(ae - be)
        if gap > MAX_DECISION_GAP or (gap > 1 and not (a.years and b.years)):
            # both venues say when the question is decided: months apart is a different question (who runs
            # vs who is nominated); without explicit years the dates are the only evidence of "which one"
            return True
    # a market decided after the other's latest possible expiration
    if ae is not None and b.latest_day is not None and ae > b.latest_day + 1:
        return True
    if be is not None and a.latest_day is not None and be > a.latest_day + 1:
        return True
    if a.years and b.years and not (a.years & b.years):
        return True  # 2026 Finals vs 2027 Finals
    if a.dates and b.dates and not _dates_agree(a.dates, b.dates):
        return True
    if a.facts is not _NO_FACTS and b.facts is not _NO_FACTS and \
            conflict(a.facts, b.facts, check_amount=not (a.numbers and b.numbers)):
        return True  # rules disagree on threshold, strictness or settlement source
    if a.entities and b.entities:  # (a side without names has nothing unexplained)
        forgive = (a.ctx | b.ctx) if aligned else frozenset()
        if _unexplained(a, b, forgive) and _unexplained(b, a, forgive):
            return True  # each side names something the other does not (Germany vs Japan)
    return (bool(a.names) and _names_missing(a, b)) or (bool(b.names) and _names_missing(b, a))


def _names_missing(x: _Feat, y: _Feat) -> bool:
    """The words that name x's leg are mostly absent from y's leg name (or, without one, from y)."""
    yl = y.names
    if yl:
        return sum(map(x.weight.__getitem__, x.names & yl)) < 0.5 * min(x.names_w, y.names_w)
    return sum(map(x.weight.__getitem__, x.names & y.tokens)) < 0.5 * x.names_w


def _unexplained(x: _Feat, y: _Feat, forgive: frozenset[str] = frozenset()) -> set[str] | frozenset[str]:
    """Names x uses that y does not. An initial stands for a word ("Los Angeles R" is the Rams, not the
    Chargers): a one-letter name and a word starting with it explain each other."""
    if not x.entities:
        return frozenset()
    out = x.entities - y.tokens - forgive
    if out:
        out = {e for e in out if not (len(e) == 1 and e in y.first_letters) and e[0] not in y.initials}
    return out


def _dates_agree(da: frozenset, db: frozenset) -> bool:
    """Explicit dates in both texts must not contradict (missing year/day is a wildcard)."""
    if not da.isdisjoint(db):
        return True  # the same date written on both sides (the common case)
    for ya, ma, dd_a in da:
        for yb, mb, dd_b in db:
            if ma == mb and (ya is None or yb is None or ya == yb) and (dd_a is None or dd_b is None or dd_a == dd_b):
                return True
    return False


# Words that name a stage of a competition or a process: "wins the conference" is not "wins the final",
# "runs for" is not "wins", "nominee" is not "president". Two listings whose words differ in one of them
# may still be the same question (venues word stages differently), but never at hedge grade.
_STAGE = frozenset(k[0] for w in (
    "conference western eastern division divisional playoff playoffs qualify qualifies qualified qualifier "
    "qualifiers semifinal semifinals quarterfinal quarterfinals round group final finals championship champion "
    "nominee nominees nomination nominated run runs running primary primaries runner podium advance advances "
    "elected inaugurated election").split() if (k := _word_kind(w)) is not _SKIP)


# Stages short of winning the whole thing, by class: two listings that name different ones (or one names a stage
# and the other none) ask different questions, whatever else they share. Winning itself ("final",
# "championship", "winner") is every winner market's default and no class: venues write it or leave it out.
_STAGE_CLASSES = {
    "conference": "conference western eastern afc nfc",
    "division": "division divisional",
    "playoff": "playoff playoffs qualify qualifies qualified qualifier qualifiers qualification",
    "semifinal": "semifinal semifinals semi",
    "quarterfinal": "quarterfinal quarterfinals",
    "nomination": "nominee nominees nomination nominated nominate",
    "candidacy": "run runs running candidacy",
    "primary": "primary primaries",
    "election": "election elected",
    "inauguration": "inauguration inaugurated inaugurate",
}
_STAGE_CLASS = {k[0]: cls for cls, words in _STAGE_CLASSES.items() for w in words.split()
                if (k := _word_kind(w)) is not _SKIP}


def _hedgeable(a: _Feat, b: _Feat, aligned: bool) -> bool:
    """HIGH: a trader can hold one listing against the other. Every piece of evidence must have been read
    and agree, not merely not disagree: both venues' rules texts; the decision dates (within a day, time
    zones); the same numbers and comparison direction in the questions and, for a threshold, the same
    strictness stated in both rules texts; a settlement source that does not conflict (a hard rule); names
    that one side explains completely (inside aligned events, after forgiving each venue's words for the
    event); and no stage word ("conference", "nominee", "runs") that only one side uses."""
    if not (a.has_rules and b.has_rules) or a.end_day is None or b.end_day is None or abs(a.end_day - b.end_day) > 1:
        return False
    if a.numbers != b.numbers or a.direction != b.direction:
        return False
    if a.direction and a.numbers - {"0"}:  # a threshold: "above" vs "at or above" must be read on both venues
        if a.facts.strictness is None or a.facts.strictness != b.facts.strictness:
            return False
    if (a.tokens ^ b.tokens) & _STAGE:
        return False
    forgive = (a.ctx | b.ctx) if aligned else frozenset()
    return not (_unexplained(a, b, forgive) and _unexplained(b, a, forgive))


def _score(a: _Feat, b: _Feat, aligned: bool = False) -> tuple[float, bool]:
    """(confidence, hedge grade). A pair whose evidence all agrees (`_hedgeable`) and whose text already
    scores MEDIUM is HIGH whatever its text score (venues word the same question differently); anything less
    is capped below HIGH by the caller."""
    if _hard_reject(a, b, aligned):
        return 0.0, False
    shared_tokens = a.tokens & b.tokens
    if not shared_tokens:
        return 0.0, False
    shared = sum(map(a.weight.__getitem__, shared_tokens))  # (map: the pair loop's hottest sum)
    union = a.total + b.total - shared
    jaccard = shared / union if union else 0.0
    containment = shared / min(a.total, b.total) if min(a.total, b.total) else 0.0
    text = 0.55 * containment + 0.45 * jaccard
    if aligned:
        # the legs carry the question inside aligned events: score the leg names plus the shared context
        text = max(text, 0.5 + 0.4 * containment)
    if text < MIN_TEXT_SCORE:
        return 0.0, False
    if bool(a.numbers) != bool(b.numbers):
        text *= 0.85
    conf = text
    if a.end_day is not None and b.end_day is not None:
        gap = abs(a.end_day - b.end_day)
        if gap <= 1:
            conf = text + (1.0 - text) * (0.35 if gap == 0 else 0.2)
        elif gap <= 7:
            conf = text + (1.0 - text) * 0.1
        else:
            conf = text * (0.9 if gap <= 45 else 0.8)
    high_ok = conf >= MEDIUM and _hedgeable(a, b, aligned)
    if high_ok:
        conf = max(conf, HIGH)
    return round(min(conf, 0.99), 4), high_ok


# --- the matcher ------------------------------------------------------------------------------------

@dataclass
class MatchResult:
    # parsec_id -> [{parsec_id, exchange, confidence, confidence_tier, source}], best first
    markets: dict[str, list[dict]]
    # event_id -> [{event_id, title, source, exchanges, confidence, confidence_tier}], best first
    events: dict[str, list[dict]]
    pairs_scored: int = 0


def match_markets(markets: Sequence[VenueMarket]) -> MatchResult:
    """Cross-exchange matches for every market (and every event group) of a catalog."""
    # The matcher allocates millions of small sets, tuples and dicts that live until it returns and form no
    # reference cycles; the cyclic collector would rescan them (and the whole catalog) again and again, which
    # cost about half the feature-building time at 30k markets. Reference counting still frees everything.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _match_markets(list(markets))
    finally:
        if was_enabled:
            gc.enable()


def _match_markets(markets: list[VenueMarket]) -> MatchResult:
    feats, df = _build_features(markets)
    # Blocking keys: (token, day the question is decided). Dated markets probe their day ±1 and the
    # undated bucket; undated markets are found by their dated partners' probes of the undated bucket. A
    # market known only by its latest possible expiration (a long-dated Kalshi future without an expected
    # expiration) is posted under that day and as undated, so a partner decided years earlier still meets it.
    # token -> day -> markets; lists too common to be selective are dropped once here, not at every probe
    postings: dict[str, dict[int | None, list[int]]] = defaultdict(dict)
    for f in feats:
        keys = (f.end_day,) if f.end_day is not None else (f.latest_day, None) if f.latest_day is not None else (None,)
        for t in f.tokens:
            by_day = postings[t]
            for k in keys:
                pl = by_day.get(k)
                if pl is None:
                    by_day[k] = [f.idx]
                else:
                    pl.append(f.idx)
    for t in list(postings):
        by_day = postings[t]
        for d in [d for d, pl in by_day.items() if len(pl) > (MAX_BLOCK_DF if d is not None else MAX_UNDATED_DF)]:
            del by_day[d]
        if not by_day:
            del postings[t]

    candidates: set[tuple[int, int]] = set()
    exch = [f.exchange for f in feats]
    # a (token, day) list is probed by every market near it: keep it filtered per probing exchange (same order)
    others: dict[str, dict[int, list[int]]] = defaultdict(dict)  # probing exchange -> id(list) -> filtered list
    for f in feats:
        day = f.end_day if f.end_day is not None else f.latest_day
        days = (day - 1, day, day + 1, None) if day is not None else (None,)
        probes: list[tuple[int, float, list[list[int]]]] = []
        for t in f.tokens:
            # each (token, day) list is judged on its own: a crowded undated bucket must not hide the day's list
            by_day = postings.get(t)
            if by_day is None:
                continue
            lists = [pl for d in days if (pl := by_day.get(d))]
            size = sum(map(len, lists))
            if size > 1:
                probes.append((size, f.weight[t], lists))
        if not probes:
            continue
        probes.sort(key=lambda p: p[0])
        acc: dict[int, float] = {}
        get = acc.get
        ex = f.exchange
        mine = others[ex]
        for _size, w, lists in probes[:BLOCK_TOKENS]:
            for pl in lists:
                other = mine.get(id(pl))
                if other is None:
                    other = mine[id(pl)] = [j for j in pl if exch[j] != ex]
                for j in other:
                    acc[j] = get(j, 0.0) + w
        if not acc:
            continue
        if len(acc) > MAX_CANDIDATES:
            floor = 0.5 * max(acc.values())  # candidates sharing far less than the best ones cannot win
            best = [j for j, v in acc.items() if v >= floor]
            if len(best) > MAX_CANDIDATES:
                best = heapq.nlargest(MAX_CANDIDATES, best, key=acc.__getitem__)
        else:
            best = list(acc)
        for j in best:
            candidates.add((f.idx, j) if f.idx < j else (j, f.idx))

    aligned = _aligned_groups(feats, candidates)
    scored: dict[tuple[int, int], tuple[float, bool]] = {}
    for i, j in candidates:
        fi, fj = feats[i], feats[j]
        scored[(i, j)] = _score(fi, fj, aligned and (fi.group, fj.group) in aligned)

    # one-to-one per exchange pair, greedy by score; a link that may not be HIGH is capped just below it
    edges = sorted(((min(s, HIGH - 0.0001) if not ok else s, i, j) for (i, j), (s, ok) in scored.items() if s >= LOW),
                   key=lambda e: (-e[0], e[1], e[2]))
    partner: dict[tuple[int, str], tuple[int, float]] = {}
    for s, i, j in edges:
        if (i, feats[j].exchange) in partner or (j, feats[i].exchange) in partner:
            continue
        partner[(i, feats[j].exchange)] = (j, s)
        partner[(j, feats[i].exchange)] = (i, s)

    _close_transitively(feats, partner)

    out: dict[str, list[dict]] = {}
    for (i, _ex), (j, s) in partner.items():
        out.setdefault(markets[i].parsec_id, []).append({
            "parsec_id": markets[j].parsec_id,
            "exchange": markets[j].exchange,
            "confidence": s,
            "confidence_tier": confidence_tier(s),
            "source": SOURCE,
        })
    for links in out.values():
        links.sort(key=lambda d: (-d["confidence"], d["parsec_id"]))
    events = _match_events(markets, partner)
    return MatchResult(out, events, len(scored))


def _close_transitively(feats: list[_Feat], partner: dict[tuple[int, str], tuple[int, float]]) -> None:
    """a~b and b~c ⇒ a~c, when a and c have no partner on each other's exchange and pass the hard rules."""
    for _ in range(2):
        added = []
        by_market: dict[int, list[tuple[int, float]]] = defaultdict(list)
        for (i, _ex), (j, s) in partner.items():
            by_market[i].append((j, s))
        for b, links in by_market.items():
            for x in range(len(links)):
                for y in range(x + 1, len(links)):
                    (a, sa), (c, sc) = links[x], links[y]
                    fa, fc = feats[a], feats[c]
                    if fa.exchange == fc.exchange:
                        continue
                    if (a, fc.exchange) in partner or (c, fa.exchange) in partner:
                        continue
                    if _hard_reject(fa, fc):
                        continue
                    # never HIGH: a and c were not compared on the evidence a hedge needs
                    s = round(min(min(sa, sc) * 0.95, HIGH - 0.0001), 4)
                    if s >= LOW:
                        added.append((s, a, c))
        if not added:
            return
        for s, a, c in sorted(added, key=lambda e: (-e[0], e[1], e[2])):
            fa, fc = feats[a], feats[c]
            if (a, fc.exchange) in partner or (c, fa.exchange) in partner:
                continue
            partner[(a, fc.exchange)] = (c, s)
            partner[(c, fa.exchange)] = (a, s)


def _match_events(markets: list[VenueMarket], partner: dict[tuple[int, str], tuple[int, float]]) -> dict[str, list[dict]]:
    sizes: Counter[str] = Counter(m.parsec_group_id for m in markets if m.parsec_group_id)
    titles: dict[str, str] = {}
    for m in markets:
        if m.parsec_group_id and m.parsec_group_id not in titles:
            titles[m.parsec_group_id] = m.group_title or m.question
    agg: dict[tuple[str, str], list[float]] = defaultdict(list)
    for (i, _ex), (j, s) in partner.items():
        gi, gj = markets[i].parsec_group_id, markets[j].parsec_group_id
        if gi and gj:
            agg[(gi, gj)].append(s)
    cands: list[tuple[float, str, str]] = []
    for (gi, gj), scores in agg.items():
        small, big = min(sizes[gi], sizes[gj]), max(sizes[gi], sizes[gj])
        if len(scores) / small < 0.5:
            continue
        conf = sum(scores) / len(scores) * (0.7 + 0.3 * len(scores) / big)
        if conf >= LOW:
            cands.append((round(conf, 4), gi, gj))
    cands.sort(key=lambda c: (-c[0], c[1], c[2]))
    taken: set[tuple[str, str]] = set()
    out: dict[str, list[dict]] = defaultdict(list)
    for conf, gi, gj in cands:
        exi, exj = gi.split(":", 1)[0], gj.split(":", 1)[0]
        if (gi, exj) in taken or (gj, exi) in taken:
            continue
        taken.add((gi, exj))
        taken.add((gj, exi))
        for a, b, exb in ((gi, gj, exj), (gj, gi, exi)):
            out[a].append({"event_id": b, "title": titles[b], "source": SOURCE, "exchanges": [exb],
                           "confidence": conf, "confidence_tier": confidence_tier(conf)})
    for links in out.values():
        links.sort(key=lambda d: (-d["confidence"], d["event_id"]))
    return dict(out)


def match_pairs(result: MatchResult) -> set[frozenset[str]]:
    """The undirected market pairs of a result (for evaluation)."""
    return {frozenset((a, link["parsec_id"])) for a, links in result.markets.items() for link in links}
