"""How well each click model recovers a known relevance: searches simulated in memory, the models run on them
(``analytics.click_models``, no database), each query's ratings compared with the truth (docs/judgments.md).

    .venv/bin/python bench/click_model_quality.py [--user pbm|dbn] [--queries 200] [--sessions 50] [--seed 7]

Each query has ten documents with a true relevance drawn from U(0, 1) and a fixed production ranking (relevance
plus Gaussian noise, σ 0.5); each search shows that ranking with two random swaps. The simulated user is either
position-based (``pbm``: a result at rank r is clicked with probability relevance / r) or a cascade with
satisfaction (``dbn``: scans from the top, clicks a result with probability its relevance, and stops after a click
with probability its relevance again). Printed: the mean over queries of Spearman's ρ between ratings and truth,
and of NDCG@10 of the ranking by rating, gains being the true relevance.
"""

import argparse
import math
import os
import random
import sys
from collections import defaultdict
from itertools import groupby
from operator import itemgetter
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
django.setup()

from analytics.click_models import MODELS  # noqa: E402
from analytics.interactions import PairRankCount, PairTotal, RankCount, SearchResult  # noqa: E402

DOCUMENTS = 10
MAX_RANK = DOCUMENTS
RANKER_NOISE = 0.5
SWAPS = 2


def simulate(user: str, queries: int, sessions: int, rng: random.Random):
    """The truth {(query, document): relevance} and every search's results, ordered by search and rank."""
    truth, results = {}, []
    for query_number in range(queries):
        query = f"q{query_number}"
        relevance = {f"d{i}": rng.random() for i in range(DOCUMENTS)}
        truth.update({(query, document): value for document, value in relevance.items()})
        ranking = sorted(relevance, key=lambda d: relevance[d] + rng.gauss(0, RANKER_NOISE), reverse=True)
        for session in range(sessions):
            shown = list(ranking)
            for _ in range(SWAPS):
                i, j = rng.sample(range(DOCUMENTS), 2)
                shown[i], shown[j] = shown[j], shown[i]
            search_id = f"{query}-{session:05d}"
            satisfied = False
            for rank, document in enumerate(shown, start=1):
                if user == "pbm":
                    clicked = rng.random() < relevance[document] / rank
                else:
                    clicked = not satisfied and rng.random() < relevance[document]
                    satisfied = satisfied or (clicked and rng.random() < relevance[document])
                results.append(SearchResult(search_id, query, document, rank, clicked))
    return truth, results


class Simulated:
    """The ``Interactions`` of the simulated searches, counted as the database would."""

    def __init__(self, results):
        self.results = results
        self.ranks = defaultdict(lambda: [0, 0])
        self.cells = defaultdict(lambda: [0, 0])
        for result in results:
            for counts in (self.ranks[result.rank], self.cells[result.user_query, result.object_id, result.rank]):
                counts[0] += 1
                counts[1] += result.clicked

    def rank_counts(self):
        return [RankCount(rank, *self.ranks[rank]) for rank in range(1, MAX_RANK + 1)]

    def pair_rank_counts(self):
        return (PairRankCount(*cell, *self.cells[cell]) for cell in sorted(self.cells))

    def pair_totals(self):
        for pair, cells in groupby(sorted(self.cells), key=itemgetter(0, 1)):
            ranks = [rank for _, _, rank in cells]
            counts = [self.cells[(*pair, rank)] for rank in ranks]
            yield PairTotal(*pair, sum(shown for shown, _ in counts), sum(clicked for _, clicked in counts), ranks[0])

    def search_results(self):
        return iter(self.results)


def spearman(xs: list[float], ys: list[float]) -> float:
    a, b = _ranks(xs), _ranks(ys)
    mean_a, mean_b = sum(a) / len(a), sum(b) / len(b)
    covariance = sum((x - mean_a) * (y - mean_b) for x, y in zip(a, b))
    spread = math.sqrt(sum((x - mean_a) ** 2 for x in a) * sum((y - mean_b) ** 2 for y in b))
    return covariance / spread if spread else 0.0


def _ranks(values: list[float]) -> list[float]:
    """Average ranks, ties sharing theirs."""
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks, start = [0.0] * len(values), 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        for position in range(start, end + 1):
            ranks[order[position]] = (start + end) / 2
        start = end + 1
    return ranks


def ndcg(predicted: list[float], gains: list[float], k: int = 10) -> float:
    ranking = sorted(range(len(predicted)), key=lambda i: (-predicted[i], i))[:k]
    dcg = sum(gains[i] / math.log2(position + 2) for position, i in enumerate(ranking))
    ideal = sum(gain / math.log2(position + 2) for position, gain in enumerate(sorted(gains, reverse=True)[:k]))
    return dcg / ideal if ideal else 0.0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--user", choices=("pbm", "dbn"), default="pbm")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--seed", type=int, default=7)
    arguments = parser.parse_args()
    truth, results = simulate(arguments.user, arguments.queries, arguments.sessions, random.Random(arguments.seed))
    interactions = Simulated(results)
    for name, model in MODELS.items():
        ratings = defaultdict(dict)
        for judgment in model(interactions, min_impressions=1):
            ratings[judgment.user_query][judgment.object_id] = judgment.rating
        rhos, gains = [], []
        for query, by_document in ratings.items():
            documents = sorted(by_document)
            predicted = [by_document[d] for d in documents]
            true = [truth[query, d] for d in documents]
            rhos.append(spearman(predicted, true))
            gains.append(ndcg(predicted, true))
        print(f"{name}: Spearman {sum(rhos) / len(rhos):.3f}  NDCG@10 {sum(gains) / len(gains):.3f}")


if __name__ == "__main__":
    main()
