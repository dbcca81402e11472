"""PBM, the position-based model (Chuklin, Markov and de Rijke, *Click Models for Web Search*, 2015: the sections
"Position-based Model" and "The EM Algorithm").

A result is clicked when it is examined and attractive, independently: P(click) = examination(rank) ×
attractiveness(query, object). Both are fitted by expectation-maximisation over the click and impression counts
per (query, object, rank): each impression without a click is split between "not examined" and "examined but not
attractive" by the current parameters (the E step), and each parameter becomes its expected share of successes
(the M step), the book's updates summed over counts rather than over sessions, which give the same sums:

    α(q,d) ← (Σ_r [k + (n − k) · (1 − γ_r) α / (1 − γ_r α)] + 1) / (Σ_r n + 2)
    γ_r    ← Σ_(q,d) [k + (n − k) · γ_r (1 − α) / (1 − γ_r α)] / Σ_(q,d) n

with n impressions and k clicks of the pair at rank r. A click proves an impression, so n is at least k. The
``+ 1`` and ``+ 2`` are the attractiveness prior (``PRIOR_CLICKS``, ``PRIOR_SKIPS``): the maximum a posteriori
update under Beta(2, 2), the book's maximum-likelihood one without them.

The model fixes only the products γ_r · α: (cγ, α/c) explains the clicks as well. After each step the parameters
are scaled so that the most examined rank has examination 1, which keeps every value in [0, 1] and makes the
attractiveness a click probability under certain examination. Start: α = γ = 0.5 (PyClick's); the fit stops when
no parameter moves by more than ``TOLERANCE``, or after ``MAX_ITERATIONS``. The judgment is the attractiveness.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field

from analytics.click_models import Interactions, Judgment, rating

# The attractiveness prior, Beta(2, 2): every pair counts as shown twice more under certain examination, clicked
# once. The maximum a posteriori estimate keeps a pair seen a few times from an attractiveness of exactly 0 or 1,
# which also makes EM converge in a fraction of the iterations; with many impressions it vanishes.
PRIOR_CLICKS = 1
PRIOR_SKIPS = 1
INITIAL_ATTRACTIVENESS = 0.5
INITIAL_EXAMINATION = 0.5
TOLERANCE = 1e-5
MAX_ITERATIONS = 1000


@dataclass
class Counts:
    """The observations, flat for speed: cell i is pair ``cell_pair[i]`` at rank ``cell_rank[i]``, seen
    ``cell_impressions[i]`` times and clicked ``cell_clicks[i]`` times."""

    pairs: list[tuple[str, str]] = field(default_factory=list)
    pair_impressions: list[int] = field(default_factory=list)
    pair_clicks: list[int] = field(default_factory=list)
    cell_pair: list[int] = field(default_factory=list)
    cell_rank: list[int] = field(default_factory=list)
    cell_impressions: list[int] = field(default_factory=list)
    cell_clicks: list[int] = field(default_factory=list)

    def add(self, row) -> None:
        pair = (row.user_query, row.object_id)
        if not self.pairs or self.pairs[-1] != pair:  # rows come grouped by pair
            self.pairs.append(pair)
            self.pair_impressions.append(0)
            self.pair_clicks.append(0)
        self.pair_impressions[-1] += row.impressions
        self.pair_clicks[-1] += row.clicks
        self.cell_pair.append(len(self.pairs) - 1)
        self.cell_rank.append(row.rank)
        self.cell_impressions.append(max(row.impressions, row.clicks))
        self.cell_clicks.append(row.clicks)


def judgments(interactions: Interactions, *, min_impressions: int) -> Iterator[Judgment]:
    """The PBM judgment of every pair with at least ``min_impressions`` impressions, by query and object id.

    Every pair's observations inform the examination of their ranks, including those of pairs left out.
    """
    counts = Counts()
    for row in interactions.pair_rank_counts():
        counts.add(row)
    attractiveness, _ = fit(counts)
    for index, (user_query, object_id) in enumerate(counts.pairs):
        impressions = counts.pair_impressions[index]
        if impressions >= min_impressions:
            clicks = counts.pair_clicks[index]
            yield Judgment(user_query, object_id, rating(attractiveness[index]), impressions, clicks)


def fit(counts: Counts) -> tuple[list[float], dict[int, float]]:
    """Attractiveness per pair (by index in ``counts.pairs``) and examination per rank, by EM."""
    observations = Observations.of(counts)
    attractiveness = [INITIAL_ATTRACTIVENESS] * len(counts.pairs)
    examination = dict.fromkeys(observations.ranks, INITIAL_EXAMINATION)
    for _ in range(MAX_ITERATIONS):
        new_attractiveness, new_examination = _step(observations, attractiveness, examination)
        _normalise(new_attractiveness, new_examination)
        moved = max(
            max((abs(a - b) for a, b in zip(new_attractiveness, attractiveness)), default=0.0),
            max((abs(new_examination[rank] - examination[rank]) for rank in examination), default=0.0),
        )
        attractiveness, examination = new_attractiveness, new_examination
        if moved <= TOLERANCE:
            break
    return attractiveness, examination


@dataclass(frozen=True)
class Observations:
    """What every EM step reads, computed once: the cells without a click, and the totals that do not change."""

    ranks: list[int]
    skipped: list[tuple[int, int, int]]  # (pair, rank, impressions without a click), only where there are some
    pair_clicks: list[int]
    pair_seen: list[int]
    rank_clicks: dict[int, int]
    rank_seen: dict[int, int]

    @classmethod
    def of(cls, counts: Counts) -> "Observations":
        ranks = sorted(set(counts.cell_rank))
        pair_clicks, pair_seen = [0] * len(counts.pairs), [0] * len(counts.pairs)
        rank_clicks, rank_seen = dict.fromkeys(ranks, 0), dict.fromkeys(ranks, 0)
        skipped = []
        cells = zip(counts.cell_pair, counts.cell_rank, counts.cell_impressions, counts.cell_clicks)
        for pair, rank, seen, clicked in cells:
            pair_clicks[pair] += clicked
            pair_seen[pair] += seen
            rank_clicks[rank] += clicked
            rank_seen[rank] += seen
            if seen > clicked:
                skipped.append((pair, rank, seen - clicked))
        return cls(ranks, skipped, pair_clicks, pair_seen, rank_clicks, rank_seen)


def _step(observations: Observations, attractiveness: list[float], examination: dict[int, float]):
    """One E and M step: each parameter's expected successes over its observations. A click is a success of
    both; an impression without one is split by the current parameters between "not examined" and "examined but
    not attractive"."""
    attractive = [float(clicks) for clicks in observations.pair_clicks]
    examined = {rank: float(clicks) for rank, clicks in observations.rank_clicks.items()}
    for pair, rank, skipped in observations.skipped:
        alpha, gamma = attractiveness[pair], examination[rank]
        neither = 1.0 - gamma * alpha  # P(no click)
        if neither > 0.0:
            attractive[pair] += skipped * (1.0 - gamma) * alpha / neither
            examined[rank] += skipped * gamma * (1.0 - alpha) / neither
    prior_seen = PRIOR_CLICKS + PRIOR_SKIPS
    new_attractiveness = [
        (successes + PRIOR_CLICKS) / (seen + prior_seen) for successes, seen in zip(attractive, observations.pair_seen)
    ]
    new_examination = {
        rank: examined[rank] / seen if seen else examination[rank] for rank, seen in observations.rank_seen.items()
    }
    return new_attractiveness, new_examination


def _normalise(attractiveness: list[float], examination: dict[int, float]) -> None:
    """Scale in place so that the most examined rank has examination 1 (the products γ·α are unchanged)."""
    most = max(examination.values(), default=0.0)
    if most <= 0.0:
        return
    for rank in examination:
        examination[rank] /= most
    for index, alpha in enumerate(attractiveness):
        attractiveness[index] = alpha * most
