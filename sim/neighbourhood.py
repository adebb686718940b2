"""The neighbourhood network: households on streets, who sees whose street, who knows whom.

Households are nodes. Streets are rows of houses on two sides; streets are laid out on a grid of
blocks, so that the drawn network looks like a street plan. Two kinds of edges:
- ``sight``: houses on the same street within ``sight_range`` houses (both sides) can see each
  other's front door;
- ``social``: acquaintances, mostly on the same or a neighbouring street.
Group membership is spatially clustered: the group covers the streets nearest to a centre, and
a share of households there joins.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import networkx as nx
import numpy as np

from sim.params import Params


@dataclass
class Neighbourhood:
    positions: np.ndarray       # (n, 2) x, y of each household
    street: np.ndarray          # street index of each household
    sight_ptr: np.ndarray       # CSR: sight neighbours of i are sight_idx[sight_ptr[i]:sight_ptr[i+1]]
    sight_idx: np.ndarray
    social_src: np.ndarray      # social ties as directed pairs (both directions present)
    social_dst: np.ndarray
    member: np.ndarray          # bool, in the group at the start
    admins: list[int]

    @property
    def n(self) -> int:
        return len(self.street)

    def in_sight(self, node: int) -> np.ndarray:
        """Households that can see ``node``'s front door (``node`` itself included)."""
        return self.sight_idx[self.sight_ptr[node]:self.sight_ptr[node + 1]]

    def on_street(self, node: int) -> np.ndarray:
        """Households on ``node``'s street (within walking distance of its front door)."""
        return np.flatnonzero(self.street == self.street[node])

    def graph(self) -> nx.Graph:
        """The network as networkx, edges tagged ``kind`` = sight | social."""
        g = nx.Graph()
        g.add_nodes_from(range(self.n))
        src = np.repeat(np.arange(self.n), np.diff(self.sight_ptr))
        sight = src < self.sight_idx
        g.add_edges_from(zip(src[sight].tolist(), self.sight_idx[sight].tolist()), kind="sight")
        social = self.social_src < self.social_dst
        g.add_edges_from(zip(self.social_src[social].tolist(), self.social_dst[social].tolist()),
                         kind="social")
        return g


def build(p: Params, rng: np.random.Generator) -> Neighbourhood:
    """A neighbourhood of ``p.n_households`` households (the rng is the network stream)."""
    n, per_street = p.n_households, p.houses_per_street
    idx = np.arange(n)
    street, house = idx // per_street, idx % per_street
    n_streets = street[-1] + 1
    street_length = per_street / 2 + 2          # houses face each other; a gap between blocks
    streets_per_row = max(1, round(math.sqrt(3.0 * n_streets / street_length)))  # a square plan
    block_x, block_y = street % streets_per_row, street // streets_per_row
    positions = np.column_stack([block_x * street_length + house // 2,
                                 block_y * 3.0 + (house % 2) * 1.0])

    sight_ptr, sight_idx = _sight(street, house, p.sight_range)
    social_src, social_dst = _social_ties(street, n_streets, per_street, n, p.social_ties, rng)
    member = _membership(positions, p.coverage, p.area_join_share, rng)
    members = np.flatnonzero(member)
    n_admins = min(p.n_admins, len(members))
    admins = sorted(int(a) for a in rng.choice(members, size=n_admins, replace=False)) if n_admins else []
    return Neighbourhood(positions, street, sight_ptr, sight_idx, social_src, social_dst, member, admins)


def _sight(street: np.ndarray, house: np.ndarray, sight_range: int) -> tuple[np.ndarray, np.ndarray]:
    """CSR lists of households on the same street within ``sight_range`` house positions, each
    list in house order."""
    order = np.lexsort((house, street))
    # one number per position along a street, streets far apart: who is in sight is a window
    along = street * (house.max(initial=0) + 2 * sight_range + 2) + house // 2
    sorted_along = along[order]
    first = np.searchsorted(sorted_along, along - sight_range, side="left")
    count = np.searchsorted(sorted_along, along + sight_range, side="right") - first
    ptr = np.concatenate([[0], np.cumsum(count)])
    idx = order[np.repeat(first - ptr[:-1], count) + np.arange(ptr[-1])]
    return ptr, idx.astype(np.int64)


def _social_ties(street, n_streets, per_street, n, mean_ties, rng):
    """Acquaintances: each household starts ~mean_ties/2 ties to the same or an adjacent street."""
    k = rng.poisson(mean_ties / 2, size=n)
    src = np.repeat(np.arange(n), k)
    target_street = np.clip(street[src] + rng.integers(-1, 2, size=len(src)), 0, n_streets - 1)
    street_size = np.bincount(street, minlength=n_streets)
    dst = target_street * per_street + (rng.random(len(src)) * street_size[target_street]).astype(np.int64)
    keep = src != dst
    pairs = np.unique(np.sort(np.column_stack([src[keep], dst[keep]]), axis=1), axis=0)
    a, b = pairs[:, 0], pairs[:, 1]
    return np.concatenate([a, b]), np.concatenate([b, a])


def _membership(positions, coverage, join_share, rng) -> np.ndarray:
    """The group covers the households nearest a centre; ``join_share`` of those join."""
    n = len(positions)
    n_members = round(coverage * n)
    member = np.zeros(n, dtype=bool)
    if n_members == 0:
        return member
    centre = positions[rng.integers(n)]
    nearest = np.argsort(np.hypot(*(positions - centre).T), kind="stable")
    area = nearest[:min(n, math.ceil(n_members / join_share))]
    member[rng.choice(area, size=n_members, replace=False)] = True
    return member
